package js

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"

	"github.com/dop251/goja"
)

// Web Crypto: crypto.getRandomValues, crypto.randomUUID and the part of
// crypto.subtle wisp implements: digest (SHA-1/256/384/512, and MD5 as
// workerd has it), HMAC keys (importKey raw/jwk, generateKey, exportKey,
// sign, verify) and workerd's timingSafeEqual. Other algorithms reject
// with a NotSupportedError that names them.

type cryptoObj struct {
	base
	in     *instance
	subtle *goja.Object
}

type subtleObj struct{ base }

var cryptoClass = defineClass(&classDef{
	name: "Crypto",
	methods: map[string]method{
		"getRandomValues": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			thisAs[*cryptoObj](in, this)
			v := arg(args, 0)
			o, ok := v.(*goja.Object)
			if !ok {
				in.throwTypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.")
			}
			var b []byte
			switch x := o.Export().(type) {
			case []byte:
				b = x
			case []int8:
				b = sliceBytes(x)
			case []uint16:
				b = sliceBytes(x)
			case []int16:
				b = sliceBytes(x)
			case []uint32:
				b = sliceBytes(x)
			case []int32:
				b = sliceBytes(x)
			case []int64:
				b = sliceBytes(x)
			case []uint64:
				b = sliceBytes(x)
			default:
				in.throwDOM("TypeMismatchError", "The data argument must be an integer-type TypedArray.")
			}
			if len(b) > 65536 {
				in.throwDOM("QuotaExceededError", fmt.Sprintf("getRandomValues() only accepts buffers of size <= 64K but provided %d bytes.", len(b)))
			}
			_, _ = rand.Read(b)
			return v
		},
		"randomUUID": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			thisAs[*cryptoObj](in, this)
			return in.vm.ToValue(randomUUID())
		},
	},
})

var subtleClass = defineClass(&classDef{
	name: "SubtleCrypto",
	methods: map[string]method{
		"digest": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				name := in.algorithmName(arg(args, 0))
				h := newHash(name)
				if h == nil {
					in.throwDOM("NotSupportedError", "Unrecognized or unimplemented digest algorithm requested.")
				}
				h.Write(in.bytesArg(arg(args, 1), "data"))
				return in.newArrayBuffer(h.Sum(nil))
			})
		},
		"importKey": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value { return in.importKey(args) })
		},
		"generateKey": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				alg := in.hmacParams(arg(args, 0), "generateKey")
				n := alg.length
				if n == 0 {
					n = newHash(alg.hash).BlockSize() * 8
				}
				key := make([]byte, (n+7)/8)
				_, _ = rand.Read(key)
				alg.length = n
				return in.newCryptoKey(&cryptoKey{alg: alg, secret: key, extractable: arg(args, 1).ToBoolean(), usages: in.usages(arg(args, 2))})
			})
		},
		"exportKey": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				format := in.toString(arg(args, 0))
				k := in.cryptoKeyArg(arg(args, 1))
				if !k.extractable {
					in.throwDOM("InvalidAccessError", "Attempt to export non-extractable key.")
				}
				switch format {
				case "raw":
					return in.newArrayBuffer(append([]byte(nil), k.secret...))
				case "jwk":
					o := in.vm.NewObject()
					_ = o.Set("kty", "oct")
					_ = o.Set("k", base64.RawURLEncoding.EncodeToString(k.secret))
					_ = o.Set("alg", "HS"+strings.TrimPrefix(k.alg.hash, "SHA-"))
					_ = o.Set("ext", true)
					_ = o.Set("key_ops", in.stringArray(k.usages))
					return o
				}
				in.throwDOM("NotSupportedError", "Unrecognized key export format \""+format+"\".")
				return nil
			})
		},
		"sign": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				k := in.hmacKeyFor(arg(args, 0), arg(args, 1), "sign")
				mac := hmac.New(func() hash.Hash { return newHash(k.alg.hash) }, k.secret)
				mac.Write(in.bytesArg(arg(args, 2), "data"))
				return in.newArrayBuffer(mac.Sum(nil))
			})
		},
		"verify": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				k := in.hmacKeyFor(arg(args, 0), arg(args, 1), "verify")
				sig := in.bytesArg(arg(args, 2), "signature")
				mac := hmac.New(func() hash.Hash { return newHash(k.alg.hash) }, k.secret)
				mac.Write(in.bytesArg(arg(args, 3), "data"))
				return in.vm.ToValue(hmac.Equal(mac.Sum(nil), sig))
			})
		},
		"timingSafeEqual": func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			a, b := in.bytesArg(arg(args, 0), "a"), in.bytesArg(arg(args, 1), "b")
			if len(a) != len(b) {
				in.throwTypeError("Input buffers must have the same byte length")
			}
			return in.vm.ToValue(subtle.ConstantTimeCompare(a, b) == 1)
		},
	},
})

func init() {
	for _, m := range []string{"encrypt", "decrypt", "deriveBits", "deriveKey", "wrapKey", "unwrapKey"} {
		subtleClass.methods[m] = func(in *instance, this goja.Value, args []goja.Value) goja.Value {
			return in.promiseTry(func() goja.Value {
				in.throwDOM("NotSupportedError", "crypto.subtle."+m+"("+in.algorithmName(arg(args, 0))+") is not supported by wisp")
				return nil
			})
		}
	}
	defineGlobal("crypto", func(in *instance) goja.Value {
		return in.wrap(cryptoClass, &cryptoObj{in: in})
	})
	defineGlobal("Crypto", classGlobal(cryptoClass))
	defineGlobal("SubtleCrypto", classGlobal(subtleClass))
	defineGlobal("CryptoKey", classGlobal(cryptoKeyClass))
}

func (c *cryptoObj) Get(key string) goja.Value {
	switch key {
	case "subtle":
		if c.subtle == nil {
			c.subtle = c.in.wrap(subtleClass, &subtleObj{})
		}
		return c.subtle
	case "DigestStream":
		return c.in.global("DigestStream")
	}
	return c.expando.get(key)
}
func (c *cryptoObj) Set(key string, v goja.Value) bool {
	if key == "subtle" {
		return false
	}
	c.setExpando(key, v)
	return true
}

func (s *subtleObj) Get(key string) goja.Value         { return s.expando.get(key) }
func (s *subtleObj) Set(key string, v goja.Value) bool { s.setExpando(key, v); return true }

func init() { defineGlobal("DigestStream", unsupportedGlobal("crypto.DigestStream")) }

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

func newHash(name string) hash.Hash {
	switch name {
	case "SHA-1":
		return sha1.New()
	case "SHA-256":
		return sha256.New()
	case "SHA-384":
		return sha512.New384()
	case "SHA-512":
		return sha512.New()
	case "MD5":
		return md5.New()
	}
	return nil
}

// algorithmName reads an AlgorithmIdentifier (a string or {name}),
// uppercased as the registered names are.
func (in *instance) algorithmName(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		n := o.Get("name")
		if n == nil || goja.IsUndefined(n) {
			in.throwTypeError("Algorithm: name: Missing or not a string")
		}
		v = n
	}
	return strings.ToUpper(in.toString(v))
}

type hmacAlg struct {
	hash   string
	length int // bits
}

// hmacParams reads HmacImportParams / HmacKeyGenParams.
func (in *instance) hmacParams(v goja.Value, op string) hmacAlg {
	name := in.algorithmName(v)
	if name != "HMAC" {
		in.throwDOM("NotSupportedError", "crypto.subtle."+op+"("+name+") is not supported by wisp")
	}
	o := v.(*goja.Object)
	hv := o.Get("hash")
	if hv == nil || goja.IsUndefined(hv) {
		in.throwTypeError("HmacImportParams: hash: Missing")
	}
	alg := hmacAlg{hash: in.algorithmName(hv)}
	if alg.hash == "MD5" || newHash(alg.hash) == nil {
		in.throwDOM("NotSupportedError", "Unrecognized or unimplemented hash algorithm requested.")
	}
	if l := o.Get("length"); l != nil && !goja.IsUndefined(l) {
		alg.length = int(l.ToInteger())
		if alg.length <= 0 {
			in.throwDOM("DataError", "HMAC key length must be a positive number of bits.")
		}
	}
	return alg
}

func (in *instance) usages(v goja.Value) []string {
	var out []string
	if o, ok := v.(*goja.Object); ok {
		in.vm.ForOf(o, func(x goja.Value) bool {
			u := in.toString(x)
			if u != "sign" && u != "verify" {
				in.throwDOM("SyntaxError", "Attempt to create an HMAC key with invalid usages.")
			}
			out = append(out, u)
			return true
		})
	}
	return out
}

func (in *instance) importKey(args []goja.Value) goja.Value {
	format := in.toString(arg(args, 0))
	alg := in.hmacParams(arg(args, 2), "importKey")
	var secret []byte
	switch format {
	case "raw":
		secret = append([]byte(nil), in.bytesArg(arg(args, 1), "keyData")...)
	case "jwk":
		o, ok := arg(args, 1).(*goja.Object)
		if !ok {
			in.throwTypeError("keyData must be a JsonWebKey for the \"jwk\" format")
		}
		if kty := o.Get("kty"); kty == nil || kty.String() != "oct" {
			in.throwDOM("DataError", "HMAC \"jwk\" key import requires a JSON Web Key with Key Type parameter \"kty\" equal to \"oct\".")
		}
		k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.toString(o.Get("k")), "="))
		if err != nil {
			in.throwDOM("DataError", "HMAC \"jwk\" key import requires a base64Url encoding of the key.")
		}
		secret = k
	default:
		in.throwDOM("NotSupportedError", "Unrecognized key import format \""+format+"\".")
	}
	if len(secret) == 0 {
		in.throwDOM("DataError", "Imported HMAC key length (0) must be a non-zero value.")
	}
	if alg.length == 0 {
		alg.length = len(secret) * 8
	}
	return in.newCryptoKey(&cryptoKey{alg: alg, secret: secret, extractable: arg(args, 3).ToBoolean(), usages: in.usages(arg(args, 4))})
}

func (in *instance) hmacKeyFor(algv, keyv goja.Value, usage string) *cryptoKey {
	name := in.algorithmName(algv)
	k := in.cryptoKeyArg(keyv)
	if name != "HMAC" {
		in.throwDOM("NotSupportedError", "crypto.subtle."+usage+"("+name+") is not supported by wisp")
	}
	for _, u := range k.usages {
		if u == usage {
			return k
		}
	}
	in.throwDOM("InvalidAccessError", "Requested key usage \""+usage+"\" does not match any usage listed in CryptoKey.")
	return nil
}

func (in *instance) cryptoKeyArg(v goja.Value) *cryptoKey {
	if o, ok := v.(*goja.Object); ok {
		if k, ok := o.Export().(*cryptoKey); ok {
			return k
		}
	}
	in.throwTypeError("Failed to execute on 'SubtleCrypto': parameter is not of type 'CryptoKey'.")
	return nil
}

// CryptoKey

type cryptoKey struct {
	base
	in          *instance
	alg         hmacAlg
	secret      []byte
	extractable bool
	usages      []string
	algObj      *goja.Object
}

var cryptoKeyClass = defineClass(&classDef{name: "CryptoKey"})

func (in *instance) newCryptoKey(k *cryptoKey) *goja.Object {
	k.in = in
	return in.wrap(cryptoKeyClass, k)
}

func (k *cryptoKey) Get(key string) goja.Value {
	in := k.in
	switch key {
	case "type":
		return in.vm.ToValue("secret")
	case "extractable":
		return in.vm.ToValue(k.extractable)
	case "usages":
		return in.stringArray(k.usages)
	case "algorithm":
		if k.algObj == nil {
			h := in.vm.NewObject()
			_ = h.Set("name", k.alg.hash)
			k.algObj = in.vm.NewObject()
			_ = k.algObj.Set("name", "HMAC")
			_ = k.algObj.Set("hash", h)
			_ = k.algObj.Set("length", k.alg.length)
		}
		return k.algObj
	}
	return k.expando.get(key)
}

func (k *cryptoKey) Set(key string, v goja.Value) bool {
	switch key {
	case "type", "extractable", "usages", "algorithm":
		return false
	}
	k.setExpando(key, v)
	return true
}
