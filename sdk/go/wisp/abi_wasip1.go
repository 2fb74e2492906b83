//go:build wasip1

package wisp

import "unsafe"

// The host functions of module "wisp", ABI v1 (docs/abi.md).

//go:wasmimport wisp request_head
//go:noescape
func hRequestHead(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp request_body
//go:noescape
func hRequestBody(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp response_head
//go:noescape
func hResponseHead(status int32, headers unsafe.Pointer, headersLen uint32) int32

//go:wasmimport wisp response_write
//go:noescape
func hResponseWrite(p unsafe.Pointer, n uint32) int32

// response is response_head and response_write in one call (added within
// v1).
//
//go:wasmimport wisp response
//go:noescape
func hResponse(status int32, headers unsafe.Pointer, headersLen uint32, body unsafe.Pointer, bodyLen uint32) int32

//go:wasmimport wisp log
//go:noescape
func hLog(level int32, msg string) int32

//go:wasmimport wisp result_read
//go:noescape
func hResultRead(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp error_read
//go:noescape
func hErrorRead(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp var_get
//go:noescape
func hVarGet(name string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp secret_get
//go:noescape
func hSecretGet(name string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp kv_get
//go:noescape
func hKvGet(binding, key string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp kv_put
//go:noescape
func hKvPut(binding, key string, value unsafe.Pointer, valueLen uint32, opts string) int32

//go:wasmimport wisp kv_delete
//go:noescape
func hKvDelete(binding, key string) int32

//go:wasmimport wisp kv_list
//go:noescape
func hKvList(binding, opts string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_get
//go:noescape
func hObjectGet(binding, key, opts string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_head
//go:noescape
func hObjectHead(binding, key string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_put
//go:noescape
func hObjectPut(binding, key string, body unsafe.Pointer, bodyLen uint32, opts string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_delete
//go:noescape
func hObjectDelete(binding string, keys unsafe.Pointer, keysLen uint32) int32

//go:wasmimport wisp object_list
//go:noescape
func hObjectList(binding, opts string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp http_fetch
//go:noescape
func hHttpFetch(binding string, head unsafe.Pointer, headLen uint32, body unsafe.Pointer, bodyLen uint32, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp queue_send
//go:noescape
func hQueueSend(binding string, body unsafe.Pointer, bodyLen uint32, opts string) int32

// Added within ABI v1.

//go:wasmimport wisp env_list
//go:noescape
func hEnvList(buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp kv_get_with_metadata
//go:noescape
func hKvGetWithMetadata(binding, key string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_open
//go:noescape
func hObjectOpen(binding, key, opts string, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp object_put_stream
//go:noescape
func hObjectPutStream(binding, key, opts string) int32

//go:wasmimport wisp stream_read
//go:noescape
func hStreamRead(handle int32, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp stream_write
//go:noescape
func hStreamWrite(handle int32, p unsafe.Pointer, n uint32) int32

//go:wasmimport wisp stream_finish
//go:noescape
func hStreamFinish(handle int32, buf unsafe.Pointer, bufCap uint32) int32

//go:wasmimport wisp stream_close
//go:noescape
func hStreamClose(handle int32) int32
