// Package route owns route patterns ("/api/cart/*", "shop.example.com/*")
// and the immutable route table the gateway matches requests against:
// most specific route wins, collisions are errors naming both owners.
package route
