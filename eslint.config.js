// ESLint (flat config) with typescript-eslint's type-aware rules: `npm run check` runs it.
// The rules are the ones the house style relies on and the compiler cannot see.
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["node_modules/**", ".tools/**", ".switchyard/**", "test-artifacts/**", "src/inspect/client/**", "src/http/openapi/docsPage/**", "bin/**", "eslint.config.js", ".dependency-cruiser.cjs"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its failure; a promise where a callback is expected runs unchecked.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error"
    }
  },
  // No `any` in the service and the machines (tests may cast their fixtures).
  { files: ["src/**/*.ts", "machines/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "error" } }
)
