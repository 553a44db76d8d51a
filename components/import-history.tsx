import Link from "next/link";
import type { ImportRow } from "@/server/ingest/queries";

export function ImportHistory({ imports, showSource = true }: { imports: ImportRow[]; showSource?: boolean }) {
  return (
    <div className="table-wrap">
      <table aria-label="Import history">
        <thead>
          <tr>
            <th>When</th>{showSource && <th>Source</th>}<th>File</th><th>Format</th>
            <th className="num">New</th><th className="num">Duplicate</th><th className="num">Rejected</th><th>Statements</th><th>By</th>
          </tr>
        </thead>
        <tbody>
          {imports.length === 0 && <tr><td colSpan={showSource ? 9 : 8} className="muted">Nothing imported yet.</td></tr>}
          {imports.map((i) => (
            <tr key={i.id}>
              <td><Link href={`/imports/${i.id}`}>{String(i.importedAt).replace("T", " ").slice(0, 16)}</Link></td>
              {showSource && <td><Link href={`/sources/${i.sourceId}`}>{i.sourceName}</Link></td>}
              <td>{i.channel === "webhook" ? <span className="muted">webhook</span> : i.fileName}</td>
              <td>{i.format}</td>
              <td className="num">{i.newCount.toLocaleString("en")}</td>
              <td className="num">{i.duplicateCount.toLocaleString("en")}</td>
              <td className="num">{i.rejectedCount.toLocaleString("en")}</td>
              <td>
                {i.statementCount === 0 ? <span className="muted">—</span>
                  : i.unbalancedStatementCount === 0 ? <span className="badge ok">{i.statementCount} · no balance breaks</span>
                  : <span className="badge bad">{i.unbalancedStatementCount} of {i.statementCount} do not add up</span>}
              </td>
              <td>{i.importedBy ?? <span className="muted">system</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
