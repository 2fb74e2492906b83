// Package project owns the deploy side of a service folder: finding the
// services in a project (one wisp.toml, or one per subfolder), running a
// manifest's [build] command, and producing what is uploaded (a bundled
// script or a .wasm module) together with the manifest text.
package project
