/* hello-c: a wisp service in C with no SDK at all. wisp runs it as CGI
 * (WAGI): the request arrives in environment variables and on stdin, and
 * the response goes to stdout as headers, a blank line and the body. Each
 * request runs in a fresh instance, so main starts from scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
	const char *v = getenv(name);
	return v ? v : "";
}

int main(void) {
	const char *method = env("REQUEST_METHOD");
	const char *path = env("PATH_INFO");

	if (strcmp(path, "/") == 0 || strcmp(path, "") == 0) {
		printf("Content-Type: text/plain; charset=utf-8\n\nHello, world!");
		return 0;
	}
	if (strcmp(path, "/env") == 0) {
		printf("Content-Type: text/plain; charset=utf-8\n\n");
		printf("method=%s\nscript=%s\npath=%s\nquery=%s\nuser-agent=%s\nroute=%s\n", method,
		       env("SCRIPT_NAME"), path, env("QUERY_STRING"), env("HTTP_USER_AGENT"), env("X_MATCHED_ROUTE"));
		return 0;
	}
	if (strcmp(path, "/echo") == 0 && strcmp(method, "POST") == 0) {
		printf("Status: 201 Created\nContent-Type: %s\n\n", env("CONTENT_TYPE"));
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
			fwrite(buf, 1, n, stdout);
		}
		return 0;
	}
	if (strcmp(path, "/crash") == 0) {
		fprintf(stderr, "hello-c: crashing on purpose\n");
		abort();
	}
	printf("Status: 404 Not Found\nContent-Type: text/plain\n\nno page at %s\n", path);
	return 0;
}
