// Package authtest makes keys and signs JWTs for tests, with full control over the
// header, so that tests can forge what an attacker would send.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Keys are a key of each kind, generated for one test, with their public halves
// (and the secret) written to files under Dir.
type Keys struct {
	RSA, OtherRSA *rsa.PrivateKey
	EC            *ecdsa.PrivateKey
	Secret        []byte
	// Files of the public keys and the secret, for auth.KeyConfig.
	RSAFile, OtherRSAFile, ECFile, SecretFile string
	Dir                                       string
}

// NewKeys generates the keys and writes their files into a temporary folder.
func NewKeys(t testing.TB) *Keys {
	t.Helper()
	k := &Keys{Dir: t.TempDir(), Secret: []byte("0123456789abcdef0123456789abcdef-secret")}
	var err error
	if k.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.OtherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	k.RSAFile = k.WritePublic(t, "rsa.pem", &k.RSA.PublicKey)
	k.OtherRSAFile = k.WritePublic(t, "other-rsa.pem", &k.OtherRSA.PublicKey)
	k.ECFile = k.WritePublic(t, "ec.pem", &k.EC.PublicKey)
	k.SecretFile = k.Write(t, "secret", append(append([]byte{}, k.Secret...), '\n'))
	return k
}

// WritePublic writes a public key as a PKIX PEM file and returns its path.
func (k *Keys) WritePublic(t testing.TB, name string, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k.Write(t, name, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Write writes data to a file under Dir and returns its path.
func (k *Keys) Write(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(k.Dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Claims returns valid claims for the issuer and audience: sub, iat now, exp in an hour.
func Claims(sub, iss, aud string) map[string]any {
	now := time.Now()
	return map[string]any{
		"sub": sub, "iss": iss, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// Sign returns a compact JWS of the claims with the header, signed as header["alg"]
// says: HS256 with a []byte key, RS256 with an *rsa.PrivateKey, ES256 with an
// *ecdsa.PrivateKey; any other alg (such as "none") gets an empty signature.
func Sign(t testing.TB, header, claims map[string]any, key any) string {
	t.Helper()
	input := Encode(t, header) + "." + Encode(t, claims)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch header["alg"] {
	case "HS256":
		mac := hmac.New(sha256.New, key.([]byte))
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	case "ES256":
		var r, s []byte
		r, s, err = signEC(key.(*ecdsa.PrivateKey), digest[:])
		sig = append(r, s...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func signEC(key *ecdsa.PrivateKey, digest []byte) (r, s []byte, err error) {
	ri, si, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, nil, err
	}
	r, s = make([]byte, 32), make([]byte, 32)
	ri.FillBytes(r)
	si.FillBytes(s)
	return r, s, nil
}

// Encode returns v as JSON in base64url without padding: one part of a compact JWS.
func Encode(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}
