// asl-validator's own validator, kept running for a Python process: node starts once, not once per definition.
// argv[2]: the path of asl-validator's validator module (dist/src/validator.js).
// Each line in: a definition's JSON text, itself encoded as a JSON string (so that it is one line).
// Each line out: first {"ready": true, "ajvReused": true|false} once loaded, then {"valid": true} or
// {"valid": false, "findings": "..."} for each line in, in the order the lines came.
"use strict";
const path = require("path");
const readline = require("readline");

const validatorModule = process.argv[2];
const ajvReused = reuseAjvInstances(validatorModule);
const loaded = require(validatorModule);
const validator = typeof loaded === "function" ? loaded : loaded.default;
// The options asl-validator's command line uses when given no flag. They never change here, which is what makes
// reusing an Ajv instance (below) give the same verdicts: the same schemas, formats and keywords every time.
const OPTIONS = { checkArn: true, checkPaths: true };

// asl-validator makes a new Ajv at every check and compiles its schemas into it (about 150 ms of a check's 155).
// Every later Ajv made with the same options is the first one, schemas compiled; the formats and keywords its
// plugins add again are those it already has (adding a keyword twice is an error in Ajv, so those calls are
// skipped). If the Ajv that asl-validator uses cannot be found, every check compiles as asl-validator does.
function reuseAjvInstances(moduleFile) {
  let ajvModule;
  try {
    ajvModule = require(require.resolve("ajv", { paths: [path.dirname(moduleFile)] }));
  } catch {
    return false;
  }
  const Ajv = ajvModule.default;
  const made = new Map();
  function ReusedAjv(options) {
    const key = JSON.stringify({ ...options, schemas: (options.schemas || []).map((schema) => schema.$id) });
    let entry = made.get(key);
    if (entry) {
      entry.again = true;
      return entry.proxy;
    }
    const ajv = new Ajv(options);
    entry = { again: false };
    entry.proxy = new Proxy(ajv, {
      get(target, name) {
        if (entry.again && (name === "addKeyword" || name === "addFormat")) return () => entry.proxy;
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    made.set(key, entry);
    return entry.proxy;
  }
  ajvModule.default = ReusedAjv;
  return true;
}

process.stdout.write(`${JSON.stringify({ ready: true, ajvReused })}\n`);
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let answer;
  try {
    const result = validator(JSON.parse(JSON.parse(line)), OPTIONS);
    answer = result.isValid ? { valid: true } : { valid: false, findings: result.errorsText() };
  } catch (error) {
    answer = { valid: false, findings: `asl-validator could not check the definition: ${error}` };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
