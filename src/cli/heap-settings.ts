/**
 * V8 heap settings for the command-line tool, imported by main.ts before anything
 * else so they apply while the rest of the program loads.
 *
 * @packageDocumentation
 */
import { setFlagsFromString } from "node:v8";

// Keep V8's young generation at its starting size. The weights live outside the JS
// heap, so a bigger nursery buys little here, and its growth to 16 MB per semi-space
// was a tenth of the whole process's peak memory (measured on a 63 MB model). The
// flag is read each time the heap considers growing, so setting it at run time works.
setFlagsFromString("--semi-space-growth-factor=1");
