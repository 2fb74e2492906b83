// Package manifest owns wisp.toml: its schema (modelled on wrangler.toml),
// parsing, defaults and validation. Every problem is reported with the
// file, the key and what is wrong, so a bad manifest is rejected before
// anything changes.
package manifest
