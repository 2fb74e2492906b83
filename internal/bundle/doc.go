// Package bundle owns turning a worker's sources (TypeScript, ES modules,
// npm packages in node_modules) into the one script goja runs: an IIFE
// targeting ES2017, built by esbuild's Go API, with errors at file:line.
package bundle
