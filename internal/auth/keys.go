package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// minRSABits is the smallest RSA modulus accepted for RS256.
const minRSABits = 2048

// verifyKey is one key with the one algorithm it verifies.
type verifyKey struct {
	id  string
	alg jwa.SignatureAlgorithm
	key any // []byte, *rsa.PublicKey or *ecdsa.PublicKey
}

// loadKeys reads every configured key, reporting every problem at once.
func loadKeys(c *JWTConfig) ([]verifyKey, error) {
	var keys []verifyKey
	var errs []error
	for i, kc := range c.Keys {
		k, err := loadKey(kc)
		if err != nil {
			errs = append(errs, fmt.Errorf("jwt.keys[%d] (%s): %w", i, kc.File, err))
			continue
		}
		keys = append(keys, k)
	}
	if c.JWKSFile != "" {
		set, err := loadJWKS(c.JWKSFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("jwt.jwks_file (%s): %w", c.JWKSFile, err))
		}
		keys = append(keys, set...)
	}
	return keys, errors.Join(errs...)
}

func loadKey(kc KeyConfig) (verifyKey, error) {
	data, err := os.ReadFile(kc.File)
	if err != nil {
		return verifyKey{}, err
	}
	k := verifyKey{id: kc.ID}
	switch kc.Algorithm {
	case HS256:
		k.alg, k.key = jwa.HS256(), trimNewline(data)
		err = checkKey(k.alg, k.key)
	case RS256, ES256:
		k.alg, _ = jwa.LookupSignatureAlgorithm(kc.Algorithm)
		k.key, err = parsePublicKey(data)
		if err == nil {
			err = checkKey(k.alg, k.key)
		}
	default:
		err = fmt.Errorf("algorithm %q is not one of %v", kc.Algorithm, Algorithms)
	}
	return k, err
}

// parsePublicKey reads the first PEM block: a PKIX or PKCS #1 public key, or a
// certificate. Private keys are refused: rolegate only verifies.
func parsePublicKey(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
	}
}

// checkKey reports whether key is of the type and strength its algorithm needs.
func checkKey(alg jwa.SignatureAlgorithm, key any) error {
	switch alg.String() {
	case HS256:
		if b, ok := key.([]byte); !ok || len(b) < MinSecretBytes {
			return fmt.Errorf("HS256 secret is shorter than %d bytes", MinSecretBytes)
		}
	case RS256:
		if k, ok := key.(*rsa.PublicKey); !ok || k.N.BitLen() < minRSABits {
			return fmt.Errorf("RS256 needs an RSA public key of %d bits or more", minRSABits)
		}
	case ES256:
		if k, ok := key.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
			return errors.New("ES256 needs an ECDSA public key on P-256")
		}
	default:
		return fmt.Errorf("algorithm %s is not one of %v", alg, Algorithms)
	}
	return nil
}

// loadJWKS reads a JSON Web Key Set, reporting every unusable key at once.
func loadJWKS(path string) ([]verifyKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, err
	}
	var keys []verifyKey
	var errs []error
	for i := range set.Len() {
		k, _ := set.Key(i)
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			continue
		}
		vk, err := fromJWK(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		keys = append(keys, vk)
	}
	if len(keys) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no signature key"))
	}
	return keys, errors.Join(errs...)
}

func fromJWK(k jwk.Key) (verifyKey, error) {
	vk := verifyKey{}
	vk.id, _ = k.KeyID()
	alg, err := jwkAlgorithm(k)
	if err != nil {
		return vk, err
	}
	vk.alg = alg
	if alg.String() != HS256 {
		if k, err = k.PublicKey(); err != nil {
			return vk, err
		}
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return vk, err
	}
	vk.key = raw
	return vk, checkKey(vk.alg, vk.key)
}

// jwkAlgorithm is the key's "alg", or the one algorithm its type allows.
func jwkAlgorithm(k jwk.Key) (jwa.SignatureAlgorithm, error) {
	if a, ok := k.Algorithm(); ok {
		alg, found := jwa.LookupSignatureAlgorithm(a.String())
		if !found {
			return alg, fmt.Errorf("algorithm %q is not one of %v", a, Algorithms)
		}
		return alg, nil
	}
	switch k.KeyType() {
	case jwa.RSA():
		return jwa.RS256(), nil
	case jwa.EC():
		return jwa.ES256(), nil
	case jwa.OctetSeq():
		return jwa.HS256(), nil
	default:
		return jwa.SignatureAlgorithm{}, fmt.Errorf("key type %s is not RSA, EC or oct", k.KeyType())
	}
}

func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
