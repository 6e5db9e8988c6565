// The swagger-ui-dist files docs-assets.ts imports as text (`with { type: "text" }`).
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
declare module "swagger-ui-dist/LICENSE" {
  const text: string;
  export default text;
}
