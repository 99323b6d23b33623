//go:build !race

package registry

const raceBuild = ""
