// Flat config (ESLint 10): type-aware strict rules for every TypeScript file,
// plain Node globals for the few .js/.mjs scripts.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["**/dist/**", "**/coverage/**", "**/.turbo/**", "**/node_modules/**"] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      // Register files index typed arrays in hot loops; with noUncheckedIndexedAccess
      // a `!` after a bounds-checked index is the honest, allocation-free spelling.
      "@typescript-eslint/no-non-null-assertion": "off",
      // Register values are numbers; template literals of numbers are intended.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      // Hex masks such as `value >>> 0` and `x | 0` are the point of register code.
      "no-bitwise": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/prefer-literal-enum-member": "off",
    },
  },
  {
    files: ["**/*.test.ts", "**/*.bench.ts"],
    rules: {
      "@typescript-eslint/no-confusing-void-expression": "off",
    },
  },
  {
    files: ["**/*.{js,mjs}"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
