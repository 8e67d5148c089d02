module hlog.dev/ably-svc

go 1.26.0

require hlog.dev/proto v0.0.0

replace hlog.dev/proto => ../proto
