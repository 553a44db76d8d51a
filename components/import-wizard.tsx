"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import type { CanonicalRecord } from "@/server/ingest/parsers/canonical";
import type { CsvMapping } from "@/server/ingest/parsers/csv";
import type { ImportSummary, StatementCheck } from "@/server/ingest/land-records";
import type { Preview } from "@/server/ingest/import-file";
import { formatMoney } from "@/server/money";

type SourceOption = { id: string; name: string; currency: string };
type Profile = { id: string; name: string; mapping: CsvMapping };
type Failure = { code: string; message: string; fieldErrors?: Record<string, string[]> };
type Result<T> = { ok: true; data: T } | ({ ok: false } & Failure);

const FORMAT_LABELS: Record<string, string> = {
  "": "Detect automatically", csv: "CSV", xlsx: "Excel (XLSX)", json: "JSON", ofx: "OFX / QFX", mt940: "MT940 / MT942", camt: "CAMT.052 / .053 / .054",
  bai2: "BAI2", stripe_balance: "Stripe balance report", stripe_payments: "Stripe payments export", adyen_settlement: "Adyen settlement details",
  paypal_settlement: "PayPal settlement (STL)", paypal_trr: "PayPal transactions (TRR)",
};

/** POSTs with XMLHttpRequest, the one browser API that reports upload progress. */
function send<T>(url: string, body: FormData | string, onProgress?: (fraction: number) => void): Promise<Result<T>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    if (typeof body === "string") xhr.setRequestHeader("content-type", "application/json");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => {
      try {
        resolve(JSON.parse(xhr.responseText) as Result<T>);
      } catch {
        resolve({ ok: false, code: "internal", message: `The server answered ${xhr.status}. Nothing was imported.` });
      }
    };
    xhr.onerror = () => resolve({ ok: false, code: "network", message: "The upload did not reach the server. Check the connection and try again; nothing was imported." });
    xhr.send(body);
  });
}

export function ImportWizard({ sources, profiles, initialSourceId }: { sources: SourceOption[]; profiles: Profile[]; initialSourceId?: string }) {
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [sourceId, setSourceId] = useState(initialSourceId ?? sources[0]?.id ?? "");
  const [format, setFormat] = useState("");
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState<null | "upload" | "parse" | "import">(null);
  const [error, setError] = useState<Failure | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [mapping, setMapping] = useState<CsvMapping | null>(null);
  const [profileName, setProfileName] = useState("");
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const source = sources.find((s) => s.id === sourceId);

  async function upload(file: File) {
    setError(null); setPreview(null); setSummary(null); setMapping(null);
    const form = new FormData();
    form.set("sourceId", sourceId);
    form.set("file", file);
    if (format) form.set("format", format);
    setBusy("upload"); setProgress(0);
    const r = await send<Preview>("/api/imports/preview", form, (f) => { setProgress(f); if (f >= 1) setBusy("parse"); });
    setBusy(null); setProgress(null);
    if (!r.ok) return setError(r);
    setPreview(r.data);
    setMapping(r.data.table?.mapping ?? null);
  }

  async function reparse(next: CsvMapping | null) {
    if (!preview) return;
    const form = new FormData();
    form.set("uploadId", preview.uploadId);
    if (format || preview.table) form.set("format", format || preview.format);
    if (next) form.set("options", JSON.stringify({ mapping: next }));
    setBusy("parse"); setError(null);
    const r = await send<Preview>("/api/imports/preview", form);
    setBusy(null);
    if (!r.ok) return setError(r);
    setPreview(r.data);
  }

  async function confirm() {
    if (!preview) return;
    setBusy("import"); setError(null);
    const r = await send<ImportSummary>("/api/imports/confirm", JSON.stringify({
      uploadId: preview.uploadId,
      format: preview.format,
      options: preview.table && mapping ? { mapping } : undefined,
      saveProfileAs: profileName || undefined,
    }));
    setBusy(null);
    if (!r.ok) return setError(r);
    setSummary(r.data);
    setPreview(null);
    router.refresh();
  }

  return (
    <section aria-label="Import a file">
      <div className="inline panel">
        <label>
          Source
          <select value={sourceId} onChange={(e) => setSourceId(e.target.value)} aria-label="Source">
            {sources.map((s) => <option key={s.id} value={s.id}>{s.name} ({s.currency})</option>)}
          </select>
        </label>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value)} aria-label="Format">
            {Object.entries(FORMAT_LABELS).map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </label>
      </div>
      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => { e.preventDefault(); setDragging(false); const f = e.dataTransfer.files[0]; if (f) void upload(f); }}
      >
        <p>Drop a statement or report here, or</p>
        <label className="button secondary" style={{ display: "inline-block" }}>
          Choose a file
          <input ref={input} type="file" aria-label="File to import" hidden onChange={(e) => { const f = e.target.files?.[0]; if (f) void upload(f); e.target.value = ""; }} disabled={!sourceId || busy !== null} />
        </label>
        <p className="muted">CSV, Excel, JSON, OFX/QFX, MT940/MT942, CAMT.052/053/054, BAI2, Stripe, Adyen and PayPal reports. Nothing is written until you confirm.</p>
        {progress !== null && (
          <div role="progressbar" aria-label="Upload progress" aria-valuenow={Math.round(progress * 100)} aria-valuemin={0} aria-valuemax={100} className="progress">
            <span style={{ width: `${Math.round(progress * 100)}%` }} />
          </div>
        )}
        {busy && <p role="status">{busy === "upload" ? `Uploading… ${Math.round((progress ?? 0) * 100)}%` : busy === "parse" ? "Reading the file…" : "Importing… this is one transaction: all lines land, or none."}</p>}
      </div>

      {error && (
        <div role="alert" className="alert error">
          {error.message}
          {error.fieldErrors && Object.entries(error.fieldErrors).filter(([k]) => k !== "file").map(([k, v]) => <div key={k}>{k}: {v.join(", ")}</div>)}
        </div>
      )}

      {preview && (
        <PreviewPanel
          preview={preview}
          source={source}
          mapping={mapping}
          profiles={profiles}
          onMapping={(m) => { setMapping(m); void reparse(m); }}
          profileName={profileName}
          onProfileName={setProfileName}
          onConfirm={confirm}
          busy={busy !== null}
        />
      )}

      {summary && <SummaryPanel summary={summary} />}
    </section>
  );
}

function PreviewPanel(p: {
  preview: Preview; source?: SourceOption; mapping: CsvMapping | null; profiles: Profile[]; onMapping: (m: CsvMapping) => void;
  profileName: string; onProfileName: (s: string) => void; onConfirm: () => void; busy: boolean;
}) {
  const { preview } = p;
  return (
    <section className="panel" aria-label="Preview">
      <h2 style={{ marginTop: 0 }}>Preview of {preview.fileName}</h2>
      <p>
        Read as <strong data-testid="detected-format">{FORMAT_LABELS[preview.format] ?? preview.format}</strong> (parser {preview.format} v{preview.parserVersion}):{" "}
        <strong data-testid="preview-count">{preview.total.toLocaleString("en")}</strong> lines
        {preview.statements.length > 0 && <>, {preview.statements.length} statement{preview.statements.length === 1 ? "" : "s"}</>}.
      </p>
      {preview.sameFileImports.length > 0 && (
        <p className="alert info">This exact file was imported into this source before ({preview.sameFileImports.length}×). Importing again adds only lines that are not there yet.</p>
      )}
      {preview.warnings.map((w) => <p key={w} className="alert info">{w}</p>)}
      {preview.table && <MappingEditor table={preview.table} mapping={p.mapping} profiles={p.profiles} onChange={p.onMapping} busy={p.busy} />}
      {preview.parseError && <p role="alert" className="alert error">{preview.parseError}</p>}
      {preview.statements.length > 0 && <StatementChecks statements={preview.statements} />}
      {preview.records.length > 0 && <RecordsTable records={preview.records} total={preview.total} />}
      <div className="inline">
        {preview.table && (
          <label>
            Save this mapping as a profile (optional)
            <input value={p.profileName} onChange={(e) => p.onProfileName(e.target.value)} placeholder="e.g. Rabobank CSV" />
          </label>
        )}
        <button type="button" onClick={p.onConfirm} disabled={p.busy || preview.total === 0}>
          Import {preview.total.toLocaleString("en")} lines into {p.source?.name}
        </button>
      </div>
    </section>
  );
}

const FIELDS: { key: keyof CsvMapping | "amountSigned" | "debit" | "credit"; label: string }[] = [
  { key: "bookedDate", label: "Booked date" },
  { key: "valueDate", label: "Value date" },
  { key: "amountSigned", label: "Amount (signed)" },
  { key: "debit", label: "Debit (money out)" },
  { key: "credit", label: "Credit (money in)" },
  { key: "counterpartyName", label: "Counterparty" },
  { key: "counterpartyAccount", label: "Counterparty account" },
  { key: "reference", label: "Reference" },
  { key: "externalId", label: "Transaction id" },
  { key: "balance", label: "Running balance" },
];

type Table = NonNullable<Preview["table"]>;

/** Column → field choices for CSV and spreadsheets; every change re-reads the stored upload. */
function MappingEditor({ table, mapping, profiles, onChange, busy }: { table: Table; mapping: CsvMapping | null; profiles: Profile[]; onChange: (m: CsvMapping) => void; busy: boolean }) {
  const columns = table.headers.length ? table.headers : (table.rows[0]?.cells ?? []).map((_, i) => `Column ${i + 1}`);
  const ref = (i: number) => (table.headers.length ? { header: table.headers[i], index: i } : { index: i });
  const indexOf = (c?: { header?: string; index?: number }) => (c ? (c.index ?? table.headers.indexOf(c.header ?? "")) : -1);
  const base: CsvMapping = mapping ?? ({
    dateFormat: table.dateFormat ?? "yyyy-mm-dd", decimalSeparator: table.decimalSeparator, thousandsSeparator: table.thousandsSeparator,
    delimiter: table.delimiter, bookedDate: ref(0), amount: { kind: "signed", column: ref(1), sign: "normal" },
  } as CsvMapping);
  const current = (key: (typeof FIELDS)[number]["key"]): number => {
    if (key === "amountSigned") return base.amount.kind === "signed" ? indexOf(base.amount.column) : -1;
    if (key === "debit") return base.amount.kind === "debitCredit" ? indexOf(base.amount.debit) : -1;
    if (key === "credit") return base.amount.kind === "debitCredit" ? indexOf(base.amount.credit) : -1;
    return indexOf(base[key] as { index?: number } | undefined);
  };
  const setField = (key: (typeof FIELDS)[number]["key"], i: number) => {
    const m: CsvMapping = structuredClone(base);
    const col = i >= 0 ? ref(i) : undefined;
    if (key === "amountSigned") { if (col) m.amount = { kind: "signed", column: col, sign: m.amount.kind === "signed" ? m.amount.sign : "normal" }; }
    else if (key === "debit" || key === "credit") {
      if (col) {
        const prev = m.amount.kind === "debitCredit" ? m.amount : { debit: col, credit: col };
        m.amount = { kind: "debitCredit", debit: key === "debit" ? col : prev.debit, credit: key === "credit" ? col : prev.credit };
      }
    } else if (key === "bookedDate") { if (col) m.bookedDate = col; }
    else (m as Record<string, unknown>)[key] = col;
    onChange(m);
  };
  const descriptionCols = new Set((base.description ?? []).map(indexOf));
  return (
    <fieldset className="mapping" disabled={busy}>
      <legend>Column mapping{table.note ? <span className="muted"> — {table.note}</span> : null}</legend>
      {profiles.length > 0 && (
        <label>
          Apply a saved profile
          <select defaultValue="" onChange={(e) => { const pr = profiles.find((x) => x.id === e.target.value); if (pr) onChange(pr.mapping); }} aria-label="Mapping profile">
            <option value="">—</option>
            {profiles.map((pr) => <option key={pr.id} value={pr.id}>{pr.name}</option>)}
          </select>
        </label>
      )}
      <div className="inline">
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <select value={current(f.key)} onChange={(e) => setField(f.key, Number(e.target.value))} aria-label={`Column for ${f.label}`}>
              <option value={-1}>—</option>
              {columns.map((c, i) => <option key={i} value={i}>{c}</option>)}
            </select>
          </label>
        ))}
        <label>
          Description (one or more)
          <select multiple size={Math.min(4, columns.length)} value={[...descriptionCols].map(String)} aria-label="Columns for Description"
            onChange={(e) => onChange({ ...base, description: [...e.target.selectedOptions].map((o) => ref(Number(o.value))) })}>
            {columns.map((c, i) => <option key={i} value={i}>{c}</option>)}
          </select>
        </label>
      </div>
      <div className="inline">
        <label>
          Date format
          <select value={base.dateFormat} onChange={(e) => onChange({ ...base, dateFormat: e.target.value as CsvMapping["dateFormat"] })} aria-label="Date format">
            {table.dateFormats.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
        <label>
          Decimal separator
          <select value={base.decimalSeparator} onChange={(e) => onChange({ ...base, decimalSeparator: e.target.value as "." | ",", thousandsSeparator: e.target.value === "," ? (base.thousandsSeparator === "," ? "." : base.thousandsSeparator) : base.thousandsSeparator === "." ? "," : base.thousandsSeparator })} aria-label="Decimal separator">
            <option value=".">. (1,234.56)</option>
            <option value=",">, (1.234,56)</option>
          </select>
        </label>
        {base.amount.kind === "signed" && (
          <label>
            Sign
            <select value={base.amount.sign} onChange={(e) => onChange({ ...base, amount: { ...(base.amount as Extract<CsvMapping["amount"], { kind: "signed" }>), sign: e.target.value as "normal" | "inverted" } })} aria-label="Sign convention">
              <option value="normal">Money in is positive</option>
              <option value="inverted">Money out is positive</option>
            </select>
          </label>
        )}
      </div>
      <div className="table-wrap">
        <table aria-label="File rows as read">
          <thead><tr><th>Line</th>{columns.map((c, i) => <th key={i}>{c}</th>)}</tr></thead>
          <tbody>
            {table.rows.slice(0, 5).map((r) => <tr key={r.line}><td className="muted">{r.line}</td>{r.cells.map((c, i) => <td key={i}>{c}</td>)}</tr>)}
          </tbody>
        </table>
      </div>
    </fieldset>
  );
}

function StatementChecks({ statements }: { statements: StatementCheck[] }) {
  return (
    <div className="table-wrap">
      <table aria-label="Statement balances">
        <thead><tr><th>Statement</th><th>Account</th><th className="num">Opening</th><th className="num">Movements</th><th className="num">Closing</th><th className="num">Lines</th><th>Check</th></tr></thead>
        <tbody>
          {statements.slice(0, 50).map((s, i) => (
            <tr key={i}>
              <td>{s.statementRef ?? "—"}</td>
              <td>{s.account ?? "—"}</td>
              <td className="num">{s.opening === null ? "—" : formatMoney(s.opening, s.currency)}</td>
              <td className="num">{formatMoney(s.movements, s.currency)}</td>
              <td className="num">{s.closing === null ? "—" : formatMoney(s.closing, s.currency)}</td>
              <td className="num">{s.lines}</td>
              <td>
                {s.balanced === null ? <span className="badge">no balances to check</span>
                  : s.balanced ? <span className="badge ok">adds up</span>
                  : <span className="badge bad">off by {formatMoney(s.difference!, s.currency)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {statements.length > 50 && <p className="muted">…and {statements.length - 50} more statements.</p>}
    </div>
  );
}

function RecordsTable({ records, total }: { records: CanonicalRecord[]; total: number }) {
  return (
    <div className="table-wrap">
      <table aria-label="Parsed lines">
        <caption className="muted" style={{ textAlign: "left" }}>First {records.length} of {total.toLocaleString("en")} lines</caption>
        <thead><tr><th>Booked</th><th>Type</th><th>Counterparty</th><th>Reference</th><th>Description</th><th className="num">Amount</th></tr></thead>
        <tbody>
          {records.map((r, i) => (
            <tr key={i}>
              <td>{r.bookedDate}</td>
              <td>{r.type}</td>
              <td>{r.counterpartyName}</td>
              <td>{r.reference}</td>
              <td>{r.description}</td>
              <td className="num">{formatMoney(r.amount, r.currency)} {r.currency}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SummaryPanel({ summary }: { summary: ImportSummary }) {
  const unbalanced = summary.statements.filter((s) => s.balanced === false).length;
  return (
    <section className="panel" aria-label="Import summary" role="status">
      <h2 style={{ marginTop: 0 }}>Imported</h2>
      <p data-testid="import-summary">
        <strong>{summary.newCount.toLocaleString("en")} new</strong>, {summary.duplicateCount.toLocaleString("en")} duplicate, {summary.rejectedCount.toLocaleString("en")} rejected
        {summary.statements.length > 0 && <>; {summary.statements.length} statement{summary.statements.length === 1 ? "" : "s"}, {unbalanced === 0 ? "no balance breaks" : `${unbalanced} not adding up (raised as exceptions)`}</>}.
      </p>
      {summary.rejections.map((r, i) => <p key={i} className="alert error">{r.reason}</p>)}
      <Link href={`/imports/${summary.importId}`}>Open the import</Link>
    </section>
  );
}
