//go:build !wasip1

package wisp

import "unsafe"

// Outside wasip1 there is no host: every call fails with codeUnavailable.

func hRequestHead(buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hRequestBody(buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hResponseHead(status int32, headers unsafe.Pointer, headersLen uint32) int32 {
	return codeUnavailable
}

func hResponseWrite(p unsafe.Pointer, n uint32) int32 { return codeUnavailable }

func hResponse(status int32, headers unsafe.Pointer, headersLen uint32, body unsafe.Pointer, bodyLen uint32) int32 {
	return codeUnavailable
}

func hLog(level int32, msg string) int32 { return codeUnavailable }

func hResultRead(buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hErrorRead(buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hVarGet(name string, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hSecretGet(name string, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hKvGet(binding, key string, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hKvPut(binding, key string, value unsafe.Pointer, valueLen uint32, opts string) int32 {
	return codeUnavailable
}

func hKvDelete(binding, key string) int32 { return codeUnavailable }

func hKvList(binding, opts string, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hObjectGet(binding, key, opts string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hObjectHead(binding, key string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hObjectPut(binding, key string, body unsafe.Pointer, bodyLen uint32, opts string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hObjectDelete(binding string, keys unsafe.Pointer, keysLen uint32) int32 { return codeUnavailable }

func hObjectList(binding, opts string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hHttpFetch(binding string, head unsafe.Pointer, headLen uint32, body unsafe.Pointer, bodyLen uint32, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hQueueSend(binding string, body unsafe.Pointer, bodyLen uint32, opts string) int32 {
	return codeUnavailable
}

func hEnvList(buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hKvGetWithMetadata(binding, key string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hObjectOpen(binding, key, opts string, buf unsafe.Pointer, bufCap uint32) int32 {
	return codeUnavailable
}

func hObjectPutStream(binding, key, opts string) int32 { return codeUnavailable }

func hStreamRead(handle int32, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hStreamWrite(handle int32, p unsafe.Pointer, n uint32) int32 { return codeUnavailable }

func hStreamFinish(handle int32, buf unsafe.Pointer, bufCap uint32) int32 { return codeUnavailable }

func hStreamClose(handle int32) int32 { return codeUnavailable }
