// Mocha's spec reporter plus one closing line in the plain "N passed, N failed" form that CI reads.
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // Printed after the spec reporter's own epilogue.
      process.nextTick(() => console.log(`unit: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`));
    });
  }
}

module.exports = SpecWithSummary;
