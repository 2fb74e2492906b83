module github.com/wisp-run/wisp/sdk/go

go 1.24
