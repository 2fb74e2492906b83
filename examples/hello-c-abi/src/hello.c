/* hello-c-abi: a wisp service in C that speaks the wisp ABI directly
 * (docs/abi.md) with no SDK: a reactor that handles many requests per
 * instance and reads a [vars] entry through a host function. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WISP(name) __attribute__((import_module("wisp"), import_name(name)))
WISP("request_head") int32_t request_head(void *buf, int32_t cap);
WISP("response_head") int32_t response_head(int32_t status, const void *h, int32_t hlen);
WISP("response_write") int32_t response_write(const void *p, int32_t len);
WISP("var_get") int32_t var_get(const char *name, int32_t name_len, void *buf, int32_t cap);

__attribute__((export_name("wisp_abi_v1"))) void abi_v1(void) {}

static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static uint8_t head[8192];
static int requests; /* survives between requests: one instance serves many */

__attribute__((export_name("wisp_handle"))) int32_t handle(void) {
	int32_t n = request_head(head, sizeof head);
	if (n < 0 || n > (int32_t)sizeof head) {
		return 1;
	}
	/* The head is a string list: method, url, request id, body length, headers. */
	const uint8_t *p = head + 4;
	uint32_t method_len = u32(p);
	const char *method = (const char *)p + 4;
	p += 4 + method_len;
	uint32_t url_len = u32(p);
	const char *url = (const char *)p + 4;

	char greeting[64];
	int32_t g = var_get("GREETING", 8, greeting, sizeof greeting - 1);
	if (g < 0 || g >= (int32_t)sizeof greeting) {
		strcpy(greeting, "Hello");
		g = 5;
	}
	greeting[g] = 0;

	static const uint8_t headers[] = {
		2, 0, 0, 0,
		12, 0, 0, 0, 'C', 'o', 'n', 't', 'e', 'n', 't', '-', 'T', 'y', 'p', 'e',
		25, 0, 0, 0, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', ';', ' ',
		'c', 'h', 'a', 'r', 's', 'e', 't', '=', 'u', 't', 'f', '-', '8',
	};
	response_head(200, headers, sizeof headers);
	char body[512];
	int len = snprintf(body, sizeof body, "%s from C! %.*s %.*s (request %d of this instance)\n", greeting,
	                   (int)method_len, method, (int)url_len, url, ++requests);
	response_write(body, len < (int)sizeof body ? len : (int)sizeof body - 1);
	return 0;
}
