// Writes the router's type as a client sees it, in full, so that the built declarations carry it
// without a reference to @cowork/api (nor, through it, to the server's database, logger and
// metrics packages). In the repository `#portal-router` is src/portal-router.ts, which is
// @cowork/api's AppRouter itself; for the build, tsconfig.build.json points `#portal-router` at
// the file written here.
//
// What is written: every procedure with its kind, its input and its output, and the router's
// error shape, each spelled out structurally (objects, arrays, unions, literals, primitives and
// Date). A type this printer cannot spell out stops the build rather than leaking a reference.
//
//   tsx scripts/portal-router.ts [out-file]     (default .build/portal-router.ts)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = resolve(root, "src/portal-router.ts");
const outFile = resolve(root, process.argv[2] ?? ".build/portal-router.ts");

const configPath = ts.findConfigFile(root, (file) => ts.sys.fileExists(file), "tsconfig.json");
if (!configPath) throw new Error(`no tsconfig.json in ${root}`);
const config = ts.parseJsonConfigFileContent(
  ts.readConfigFile(configPath, (file) => ts.sys.readFile(file)).config,
  ts.sys,
  root,
);
const program = ts.createProgram([source], { ...config.options, noEmit: true });
const failures = ts
  .getPreEmitDiagnostics(program)
  .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
if (failures.length > 0) {
  throw new Error(
    ts.formatDiagnostics(failures, {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    }),
  );
}
const checker = program.getTypeChecker();
const file = program.getSourceFile(source)!;
const alias = file.statements.find(
  (statement): statement is ts.TypeAliasDeclaration =>
    ts.isTypeAliasDeclaration(statement) && statement.name.text === "PortalRouter",
);
const routerType = alias ? checker.getTypeAtLocation(alias.name) : undefined;
if (!routerType) throw new Error(`${source} exports no PortalRouter type`);

const property = (type: ts.Type, name: string, where: string): ts.Type => {
  const symbol = checker.getPropertyOfType(type, name);
  if (!symbol) throw new Error(`${where}: no property ${name}`);
  return checker.getTypeOfSymbol(symbol);
};

const isGlobal = (symbol: ts.Symbol | undefined) =>
  !!symbol?.declarations?.length &&
  symbol.declarations.every((declaration) =>
    program.isSourceFileDefaultLibrary(declaration.getSourceFile()),
  );

const docOf = (symbol: ts.Symbol, indent: string) => {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  if (!text) return "";
  return `${indent}/**\n${text
    .split("\n")
    .map((line) => `${indent} * ${line}`.trimEnd())
    .join("\n")}\n${indent} */\n`;
};

const keyOf = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

/** The type spelled out, or an error naming where it could not be. */
function print(type: ts.Type, where: string, indent: string, seen: Set<ts.Type>): string {
  const flags = type.flags;
  if (flags & ts.TypeFlags.Any) return "any";
  if (flags & ts.TypeFlags.Unknown) return "unknown";
  if (flags & ts.TypeFlags.Never) return "never";
  if (flags & ts.TypeFlags.Void) return "void";
  if (flags & ts.TypeFlags.Undefined) return "undefined";
  if (flags & ts.TypeFlags.Null) return "null";
  if (flags & ts.TypeFlags.String) return "string";
  if (flags & ts.TypeFlags.Number) return "number";
  if (flags & ts.TypeFlags.Boolean) return "boolean";
  if (flags & ts.TypeFlags.BigInt) return "bigint";
  if (flags & ts.TypeFlags.ESSymbol) return "symbol";
  if (flags & ts.TypeFlags.StringLiteral)
    return JSON.stringify((type as ts.StringLiteralType).value);
  if (flags & ts.TypeFlags.NumberLiteral) return String((type as ts.NumberLiteralType).value);
  if (flags & ts.TypeFlags.BooleanLiteral) return checker.typeToString(type);
  if (flags & ts.TypeFlags.Union) {
    const members = (type as ts.UnionType).types;
    const hasTrue = members.some((member) => checker.typeToString(member) === "true");
    const hasFalse = members.some((member) => checker.typeToString(member) === "false");
    const parts = members
      .filter((member) => !(hasTrue && hasFalse && member.flags & ts.TypeFlags.BooleanLiteral))
      .map((member) => print(member, where, indent, seen));
    if (hasTrue && hasFalse) parts.push("boolean");
    return parts.join(" | ");
  }
  if (flags & ts.TypeFlags.Intersection) {
    return (type as ts.IntersectionType).types
      .map((member) => wrap(member, print(member, where, indent, seen)))
      .join(" & ");
  }
  if (flags & ts.TypeFlags.NonPrimitive) return "object";
  if (flags & ts.TypeFlags.Object) {
    if (seen.has(type)) throw new Error(`${where}: a recursive type cannot be spelled out`);
    const inner = new Set(seen).add(type);
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      return `${wrap(element!, print(element!, `${where}[]`, indent, inner))}[]`;
    }
    if (checker.isTupleType(type)) {
      const elements = checker.getTypeArguments(type as ts.TypeReference);
      return `[${elements.map((element, i) => print(element, `${where}[${i}]`, indent, inner)).join(", ")}]`;
    }
    const symbol = type.getSymbol();
    if (isGlobal(symbol)) {
      // Date and the like: the consumer's own lib knows them.
      if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
        const args = checker.getTypeArguments(type as ts.TypeReference);
        if (args.length > 0) {
          return `${symbol!.name}<${args.map((arg) => print(arg, where, indent, inner)).join(", ")}>`;
        }
      }
      return symbol!.name;
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Error(`${where}: a function type cannot be spelled out`);
    }
    const next = `${indent}  `;
    const lines: string[] = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      lines.push(
        `${next}[key: ${print(info.keyType, where, next, inner)}]: ${print(info.type, `${where}[key]`, next, inner)};`,
      );
    }
    for (const member of checker.getPropertiesOfType(type)) {
      const optional = member.flags & ts.SymbolFlags.Optional ? "?" : "";
      const memberType = checker.getTypeOfSymbol(member);
      lines.push(
        `${docOf(member, next)}${next}${keyOf(member.name)}${optional}: ${print(memberType, `${where}.${member.name}`, next, inner)};`,
      );
    }
    return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
  }
  throw new Error(`${where}: cannot spell out ${checker.typeToString(type)}`);
}

/** In an array or an intersection, a union needs parentheses. */
const wrap = (type: ts.Type, text: string) =>
  type.flags & (ts.TypeFlags.Union | ts.TypeFlags.Intersection) &&
  !(type.flags & ts.TypeFlags.Boolean)
    ? `(${text})`
    : text;

const definition = property(routerType, "_def", "PortalRouter");
const rootTypes = property(
  property(definition, "_config", "PortalRouter"),
  "$types",
  "PortalRouter",
);
const rootMeta = property(rootTypes, "meta", "meta");
const errorShape = print(
  property(rootTypes, "errorShape", "errorShape"),
  "errorShape",
  "    ",
  new Set(),
);
const transformer = print(
  property(rootTypes, "transformer", "transformer"),
  "transformer",
  "",
  new Set(),
);

const kinds = {
  query: "TRPCQueryProcedure",
  mutation: "TRPCMutationProcedure",
  subscription: "TRPCSubscriptionProcedure",
} as const;
const used = new Set<string>(["TRPCBuiltRouter"]);

function printRecord(record: ts.Type, where: string, indent: string): string {
  const next = `${indent}  `;
  const lines = checker.getPropertiesOfType(record).map((member) => {
    const value = checker.getTypeOfSymbol(member);
    const path = where ? `${where}.${member.name}` : member.name;
    const def = checker.getPropertyOfType(value, "_def");
    const isProcedure = def && checker.getPropertyOfType(checker.getTypeOfSymbol(def), "procedure");
    if (!isProcedure) {
      return `${docOf(member, next)}${next}${keyOf(member.name)}: ${printRecord(value, path, next)};`;
    }
    const defType = checker.getTypeOfSymbol(def);
    const kind = property(defType, "type", path);
    if (!(kind.flags & ts.TypeFlags.StringLiteral)) throw new Error(`${path}: unknown kind`);
    const name = kinds[(kind as ts.StringLiteralType).value as keyof typeof kinds];
    if (!name) throw new Error(`${path}: unknown kind ${(kind as ts.StringLiteralType).value}`);
    used.add(name);
    const types = property(defType, "$types", path);
    const inner = `${next}  `;
    const input = print(property(types, "input", path), `${path} input`, inner, new Set());
    const output = print(property(types, "output", path), `${path} output`, inner, new Set());
    const ownMeta = print(property(value, "meta", path), `${path} meta`, inner, new Set());
    const meta =
      ownMeta === print(rootMeta, "meta", inner, new Set()) ? "PortalRouterMeta" : ownMeta;
    return (
      `${docOf(member, next)}${next}${keyOf(member.name)}: ${name}<{\n` +
      `${inner}input: ${input};\n${inner}output: ${output};\n${inner}meta: ${meta};\n${next}}>;`
    );
  });
  return `{\n${lines.join("\n")}\n${indent}}`;
}

const record = printRecord(property(definition, "record", "PortalRouter"), "", "");

const text = `// Written by scripts/portal-router.ts from @cowork/api's AppRouter when the package is built.
// Do not edit: it is the router as a client sees it, without the server's context.
import type { ${[...used].sort().join(", ")} } from "@trpc/server";

export type PortalRouter = TRPCBuiltRouter<
  {
    ctx: object;
    meta: PortalRouterMeta;
    errorShape: ${errorShape};
    transformer: ${transformer};
  },
  PortalRouterRecord
>;

export type PortalRouterMeta = ${print(rootMeta, "meta", "", new Set())};

export type PortalRouterRecord = ${record};
`;

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, text);
console.log(`wrote ${outFile}`);
