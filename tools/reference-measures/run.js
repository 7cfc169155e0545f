#!/usr/bin/env node
// Runs the measure stewards' reference engine (fqm-execution, which wraps cql-execution + cql-exec-fhir)
// over one or more patient bundles and prints each patient's population membership.
//
// Why this exists: Caretrail computes CMS165/CMS122 itself; this script is an independent second engine that
// executes the stewards' own compiled ELM, so a disagreement points at a bug in one of the two.
//
// Usage:
//   node run.js --measure-bundle MEASURE.json --patient-bundle P1.json [--patient-bundle P2.json ...]
//               --period-start 2025-01-01 --period-end 2025-12-31 [--timing]
//
// MEASURE.json: a FHIR Bundle with the Measure, every Library it needs (with application/elm+json content) and
// every ValueSet (with its expansion). Value sets come only from this bundle: no API key, no VSAC, no network.
// Each P*.json: a FHIR Bundle holding one Patient and that patient's resources.
//
// Output (stdout): a JSON array, one object per patient, one per line:
//   {"patient": "<Patient.id>", "populations": {"initial-population": 1, "denominator": 1, ...}}
// with 1/0 per population code of the Measure's first group (the MeasureReport population code names).
// With --timing, one JSON line {"calculate_ms": N, "patients": N} goes to stderr (node start-up excluded).
// Errors: one line on stderr and exit status 1 (2 for bad arguments).
'use strict';

const fs = require('fs');

// stdout carries only the results: anything the engine logs goes to stderr instead.
console.log = console.info = console.debug = console.error;

const { Calculator } = require('fqm-execution');

/** Parses the command line; repeated --patient-bundle options accumulate. */
function parseArgs(argv) {
  const args = { measureBundle: null, patientBundles: [], periodStart: null, periodEnd: null, timing: false };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const needValue = () => {
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    if (name === '--measure-bundle') args.measureBundle = needValue();
    else if (name === '--patient-bundle') args.patientBundles.push(needValue());
    else if (name === '--period-start') args.periodStart = needValue();
    else if (name === '--period-end') args.periodEnd = needValue();
    else if (name === '--timing') args.timing = true;
    else usage(`unknown argument ${name}`);
  }
  if (!args.measureBundle) usage('--measure-bundle is required');
  if (args.patientBundles.length === 0) usage('at least one --patient-bundle is required');
  if (!args.periodStart || !args.periodEnd) usage('--period-start and --period-end are required');
  return args;
}

function usage(message) {
  process.stderr.write(`run.js: ${message}\n`);
  process.exit(2);
}

function fail(message) {
  // One line, so the Python wrapper can show it as is.
  process.stderr.write(`run.js: ${String(message).split('\n')[0]}\n`);
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    fail(`cannot read ${path}: ${err.message}`);
  }
}

/** The Patient.id inside a patient bundle, used to name results even when the engine reports no patient. */
function patientIdOf(bundle) {
  const entry = (bundle.entry || []).find(e => e.resource && e.resource.resourceType === 'Patient');
  return entry ? entry.resource.id : null;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const measureBundle = readJson(args.measureBundle);
  const patientBundles = args.patientBundles.map(readJson);

  const options = {
    measurementPeriodStart: args.periodStart,
    measurementPeriodEnd: args.periodEnd,
    calculateHTML: false, // the highlighted-logic HTML is for people; it only costs time here
    calculateSDEs: false,
    calculateRAVs: false,
    verboseCalculationResults: false,
    useValueSetCaching: false, // offline: value sets come only from the measure bundle
    vsAPIKey: undefined, // never ask VSAC; a missing value set is an error, not a download
    // Select resources by their meta.profile, as QI-Core data is meant to be read (and as MADiE computed the
    // expected results). This matters: CMS165 retrieves blood pressures as ["observation-bp"] and checks no code,
    // so with profiles ignored every Observation (a weight, an HbA1c) would count as a blood-pressure reading.
    // The price: every resource must carry its QI-Core (or FHIR vital-signs) profile in meta.profile.
    trustMetaProfile: true
  };

  const started = process.hrtime.bigint();
  let output;
  try {
    output = await Calculator.calculate(measureBundle, patientBundles, options);
  } catch (err) {
    fail(err && err.message ? err.message : err);
  }
  const calculateMs = Number(process.hrtime.bigint() - started) / 1e6;
  // Errors the engine recovered from (it still returns results): worth seeing, not worth failing for.
  for (const error of output.withErrors || []) {
    process.stderr.write(`run.js: warning: ${String(error.message || error).split('\n')[0]}\n`);
  }

  // fqm-execution returns results in the order of the patient bundles.
  const lines = output.results.map((result, index) => {
    const group = (result.detailedResults || [])[0] || {};
    const populations = {};
    for (const population of group.populationResults || []) {
      populations[population.populationType] = population.result ? 1 : 0;
    }
    const patient = result.patientId || patientIdOf(patientBundles[index]);
    return JSON.stringify({ patient, populations });
  });
  process.stdout.write(`[\n${lines.join(',\n')}\n]\n`);
  if (args.timing) {
    process.stderr.write(`${JSON.stringify({ calculate_ms: calculateMs, patients: patientBundles.length })}\n`);
  }
}

main().catch(err => fail(err && err.message ? err.message : err));
