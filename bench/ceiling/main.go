// Command ceiling is the bare Gin endpoint of the benchmark (go run ./bench): POST
// /v1/decisions reads the body and answers a constant decision, in Gin's release mode
// behind an http.Server set up as rolegate's, so its throughput is the ceiling of the
// HTTP path on the machine. GET /metrics has the Go runtime's counters, which the
// benchmark reads for allocations per request. It is a measuring tool, not a part of
// the service, which imports Gin only in internal/server.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// answer is a decision response of the size rolegate gives, always the same.
var answer = []byte(`{"decision_id":"01a23d36-715d-766f-befd-a6f98648a214","allow":true,` +
	`"reasons":[{"code":"granted","message":"developer of dw-000001 grants miniprogram:update"}],` +
	`"revision":{"policy":"dc8e2fcead4aaee5","membership":"1"}}`)

func main() {
	addr := flag.String("addr", "127.0.0.1:8183", "listen address")
	flag.Parse()

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/v1/decisions", func(c *gin.Context) {
		if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", answer)
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	hs := &http.Server{
		Addr:              *addr,
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Fatal(hs.ListenAndServe())
}
