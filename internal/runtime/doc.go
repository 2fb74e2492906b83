// Package runtime owns the contract between the platform and a sandboxed
// guest: an Engine loads a version's code into a Module, a Module makes
// Instances, and an Instance handles one invocation at a time. Engines
// live in subpackages (js, wasm); errors say whether the instance that
// produced them can be reused.
package runtime
