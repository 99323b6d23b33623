module github.com/xorc-dev/xorc

go 1.26.8
