// ESLint for handloop's browser code (`make lint`): the element library, the portal's
// scripts, and the JavaScript the browser tests run inside task pages.
import js from "@eslint/js";
import globals from "globals";

export default [
  // The corpus holds AWS's templates unchanged; node_modules is the linter itself.
  // tests/vendor/ holds third-party builds as published (axe-core for the console's checks).
  { ignores: ["node_modules/", "tests/conformance/", ".venv/", "tests/vendor/"] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      "no-shadow": "error",
      "no-use-before-define": ["error", { functions: false, classes: true, variables: true }],
      "no-useless-assignment": "error",
    },
  },
  {
    // The element library: native ES modules, loaded by the task frame without a build step.
    files: ["src/handloop/web/static/crowd-html-elements.js", "src/handloop/web/static/elements/**/*.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    // The portal page's script and the task frame's bridge: classic scripts.
    files: ["src/handloop/web/static/task.js", "src/handloop/web/static/frame-bridge.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    // The requester console's scripts (/console): native ES modules, and the classic script
    // that fills a task's form with an answer inside the sandboxed frame.
    files: ["src/handloop/web/static/console-overview.js", "src/handloop/web/static/console-editor.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    files: ["src/handloop/web/static/console-answer-fill.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    // Evaluated inside task frames by Playwright (tests/conformance.py reads it as text).
    files: ["tests/**/*.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
  {
    // The OIDC provider tests/test_oidc.py runs with Node.
    files: ["tests/oidc/*.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
