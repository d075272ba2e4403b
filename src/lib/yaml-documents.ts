import { type Document, LineCounter, isMap, isNode, isScalar, parseAllDocuments, visit } from 'yaml';

/** A path into a parsed YAML value: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** One YAML document of a file, converted to plain JS, able to say on which line a path starts. */
export interface YamlDocument {
  /** 0-based position of the document in its file */
  index: number;
  /** the document as plain JS (maps → objects, sequences → arrays); null for an empty document */
  value: unknown;
  /** 1-based line where `path` starts (a map entry: the line of its key); falls back to the nearest ancestor that exists, then the document start */
  lineOf(path: YamlPath): number;
}

/** A YAML syntax problem: 1-based line and the parser's message. */
export interface YamlSyntaxProblem {
  line: number;
  message: string;
}

/**
 * Parses every `---`-separated document of `text` (YAML 1.2 core schema, duplicate keys refused).
 * Empty documents (a leading or trailing `---`) are skipped. A plain scalar with a leading zero
 * that YAML would read as an integer (`08006`, a SQLSTATE) is kept as the string written.
 *
 * @returns the documents that parsed and one problem per syntax error (documents with errors are left out)
 */
export function parseYamlDocuments(text: string): { documents: YamlDocument[]; problems: YamlSyntaxProblem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: YamlDocument[] = [];
  const problems: YamlSyntaxProblem[] = [];
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const all: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  all.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) problems.push({ line: lineAt(error.pos[0]), message: error.message.split('\n')[0] ?? error.message });
      return;
    }
    if (doc.contents === null) return;
    keepLeadingZeroScalars(doc);
    const start = doc.contents.range?.[0] ?? 0;
    documents.push({
      index,
      value: doc.toJS({ maxAliasCount: 1000 }) as unknown,
      lineOf(path: YamlPath): number {
        for (let length = path.length; length > 0; length--) {
          const parent = length === 1 ? doc.contents : doc.getIn(path.slice(0, length - 1), true);
          const last = path[length - 1];
          if (isMap(parent)) {
            const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
            if (pair && isNode(pair.key) && pair.key.range) return lineAt(pair.key.range[0]);
            continue;
          }
          const node = doc.getIn(path.slice(0, length), true);
          if (isNode(node) && node.range) return lineAt(node.range[0]);
        }
        return lineAt(start);
      },
    });
  });
  return { documents, problems };
}

/** `08006` is a SQLSTATE, not the integer 8006: plain scalars with a leading zero stay strings. */
function keepLeadingZeroScalars(doc: Document.Parsed): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && typeof node.source === 'string' && /^[+-]?0\d+$/.test(node.source)) {
        node.value = node.source;
      }
    },
  });
}
