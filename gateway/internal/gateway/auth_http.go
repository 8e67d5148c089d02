package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
)

// writeStatus answers with grpc-gateway's error body {code, message,
// details} and the HTTP status of the gRPC code, as the REST API does.
// Faults on our side keep their details out of the answer.
func writeStatus(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	msg := st.Message()
	if public, fault := faultMessage(st.Code()); fault {
		msg = public
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(runtime.HTTPStatusFromCode(st.Code()))
	_ = json.NewEncoder(w).Encode(map[string]any{"code": int(st.Code()), "message": msg, "details": []any{}})
}

func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := jsonMarshaler.Marshal(m)
	if err != nil {
		writeStatus(w, status.Errorf(codes.Internal, "encoding answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// readBody decodes a JSON body into m. Only application/json is taken: a
// cross-site HTML form cannot send it without the browser asking first,
// which is what keeps sign-in and sign-up safe from login CSRF.
func readBody(r *http.Request, m proto.Message) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		return status.Error(codes.InvalidArgument, "send a JSON body with Content-Type: application/json")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "reading body: %v", err)
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(b, m); err != nil {
		return status.Errorf(codes.InvalidArgument, "body: %v", err)
	}
	return nil
}

// authHandlers serve sign-up, sign-in, sign-out, password change and the
// current session under /auth/. They speak JSON; the session token only
// ever travels in the HttpOnly cookie.
type authHandlers struct {
	sessions *sessions
	client   identityv1.SellerServiceClient
	secure   bool
	log      *slog.Logger
}

// sessionAnswer is what the page learns about its session: who, and the
// CSRF token for writes. Never the session token.
func sessionAnswer(seller *identityv1.Seller, csrf string, expires time.Time) map[string]any {
	b, _ := jsonMarshaler.Marshal(seller)
	return map[string]any{"seller": json.RawMessage(b), "csrf_token": csrf, "expires_at": expires.UTC().Format(time.RFC3339)}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *authHandlers) setCookie(w http.ResponseWriter, sess *identityv1.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sess.GetToken(), Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, Expires: sess.GetExpiresAt().AsTime(),
	})
}

func (a *authHandlers) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// clientKey is the caller's IP, for sign-in throttling.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *authHandlers) signUp(w http.ResponseWriter, r *http.Request) {
	var req identityv1.SignUpRequest
	if err := readBody(r, &req); err != nil {
		writeStatus(w, err)
		return
	}
	req.ClientKey = clientKey(r)
	resp, err := a.client.SignUp(a.sessions.serviceContext(r.Context()), &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setCookie(w, resp.GetSession())
	writeJSON(w, sessionAnswer(resp.GetSession().GetSeller(), resp.GetSession().GetCsrfToken(), resp.GetSession().GetExpiresAt().AsTime()))
}

func (a *authHandlers) signIn(w http.ResponseWriter, r *http.Request) {
	var req identityv1.SignInRequest
	if err := readBody(r, &req); err != nil {
		writeStatus(w, err)
		return
	}
	req.ClientKey = clientKey(r)
	resp, err := a.client.SignIn(a.sessions.serviceContext(r.Context()), &req)
	if err != nil {
		if d := retryAfter(err); d != "" {
			w.Header().Set("Retry-After", d)
		}
		a.fail(w, r, err)
		return
	}
	a.setCookie(w, resp.GetSession())
	writeJSON(w, sessionAnswer(resp.GetSession().GetSeller(), resp.GetSession().GetCsrfToken(), resp.GetSession().GetExpiresAt().AsTime()))
}

// session tells the page whether it is signed in.
func (a *authHandlers) session(w http.ResponseWriter, r *http.Request) {
	sess, err := a.sessions.resolve(r.Context(), sessionToken(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, sessionAnswer(sess.GetSeller(), sess.GetCsrfToken(), sess.GetExpiresAt().AsTime()))
}

// withCSRF lets a write through only with the session's CSRF token.
func (a *authHandlers) withCSRF(w http.ResponseWriter, r *http.Request) (string, bool) {
	token := sessionToken(r)
	sess, err := a.sessions.resolve(r.Context(), token)
	if err != nil {
		a.fail(w, r, err)
		return "", false
	}
	if !sameToken(r.Header.Get(csrfHeader), sess.GetCsrfToken()) {
		writeStatus(w, status.Errorf(codes.PermissionDenied, "missing or wrong %s header: reload the page and try again", csrfHeader))
		return "", false
	}
	return token, true
}

func (a *authHandlers) signOut(w http.ResponseWriter, r *http.Request) {
	token, ok := a.withCSRF(w, r)
	if !ok {
		return
	}
	if _, err := a.client.SignOut(a.sessions.serviceContext(r.Context()), &identityv1.SignOutRequest{SessionToken: token}); err != nil {
		a.fail(w, r, err)
		return
	}
	a.sessions.forget(token)
	a.clearCookie(w)
	writeJSON(w, map[string]any{})
}

func (a *authHandlers) changePassword(w http.ResponseWriter, r *http.Request) {
	token, ok := a.withCSRF(w, r)
	if !ok {
		return
	}
	var req identityv1.ChangePasswordRequest
	if err := readBody(r, &req); err != nil {
		writeStatus(w, err)
		return
	}
	req.SessionToken = token
	resp, err := a.client.ChangePassword(a.sessions.serviceContext(r.Context()), &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.sessions.forget(token)
	a.setCookie(w, resp.GetSession())
	writeJSON(w, sessionAnswer(resp.GetSession().GetSeller(), resp.GetSession().GetCsrfToken(), resp.GetSession().GetExpiresAt().AsTime()))
}

func (a *authHandlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if _, fault := faultMessage(status.Code(err)); fault {
		a.log.Error("auth call failed", "path", r.URL.Path, "code", status.Code(err).String(), "err", status.Convert(err).Message())
	}
	writeStatus(w, err)
}

// retryAfter is the Retry-After header value (seconds) of a throttled
// sign-in, or "".
func retryAfter(err error) string {
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		return ""
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return strconv.FormatInt(int64(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds())), 10)
		}
	}
	return ""
}
