//go:build race

package registry

const raceBuild = " (-race build)"
