package gateway

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

// CheckEnvoy answers Envoy's ext_authz gRPC Check: OK with the subject in
// Config.SubjectHeader on an allow; otherwise a denied response whose HTTP status,
// headers and JSON body are those of Respond, with the gRPC code UNAUTHENTICATED
// (HTTP 401) or PERMISSION_DENIED. It never returns an error: a malformed request is
// denied like any other.
func (g *Gateway) CheckEnvoy(ctx context.Context, req *authv3.CheckRequest) *authv3.CheckResponse {
	h := req.GetAttributes().GetRequest().GetHttp()
	res := g.Check(ctx, &Request{Method: h.GetMethod(), URI: h.GetPath(), Header: envoyHeader{h}})
	return envoyResponse(&res, g.Respond(&res))
}

func envoyResponse(res *Result, r Response) *authv3.CheckResponse {
	if r.Status == http.StatusOK {
		return &authv3.CheckResponse{
			Status: &rpcstatus.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
				Headers: headerOptions(r.Header),
			}},
		}
	}
	code := codes.PermissionDenied
	if res.Outcome == Unauthenticated {
		code = codes.Unauthenticated
	}
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(code), Message: res.firstReason().Code},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(r.Status)},
			Headers: headerOptions(r.Header),
			Body:    string(r.Body),
		}},
	}
}

// headerOptions turns headers into Envoy's options, each replacing any value the
// request already has (so a client cannot send its own subject upstream).
func headerOptions(h http.Header) []*corev3.HeaderValueOption {
	keys := slices.Sorted(maps.Keys(h))
	opts := make([]*corev3.HeaderValueOption, 0, len(keys))
	for _, k := range keys {
		opts = append(opts, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: strings.ToLower(k), Value: h.Get(k)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return opts
}

// envoyHeader reads the headers of a CheckRequest: header_map when Envoy sends raw
// headers (repeated keys stay repeated), else the headers map (keys lower-cased,
// repeated headers merged with commas, which single refuses for identity headers).
type envoyHeader struct {
	http *authv3.AttributeContext_HttpRequest
}

// Values returns the values of the header.
func (e envoyHeader) Values(name string) []string {
	key := strings.ToLower(name)
	if hm := e.http.GetHeaderMap(); len(hm.GetHeaders()) > 0 {
		var values []string
		for _, hv := range hm.GetHeaders() {
			if strings.ToLower(hv.GetKey()) == key {
				values = append(values, headerValue(hv))
			}
		}
		return values
	}
	if v, ok := e.http.GetHeaders()[key]; ok {
		return []string{v}
	}
	return nil
}

func headerValue(hv *corev3.HeaderValue) string {
	if raw := hv.GetRawValue(); raw != nil {
		return string(raw)
	}
	return hv.GetValue()
}
