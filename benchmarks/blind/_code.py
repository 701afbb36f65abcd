"""Deterministic source files in several languages: plausible functions around nouns of a domain.

The files are filler a real paste would also contain (helpers, getters, small services); each workload plants
the lines that matter itself.
"""

from __future__ import annotations

import random

VERBS = [
    "load",
    "save",
    "find",
    "list",
    "update",
    "validate",
    "parse",
    "format",
    "merge",
    "sync",
    "compute",
    "resolve",
    "refresh",
    "archive",
    "export",
    "import",
    "schedule",
    "cancel",
    "assign",
    "notify",
]


def _snake(*parts: str) -> str:
    return "_".join(parts)


def _camel(*parts: str) -> str:
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _pascal(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


def names(r: random.Random, nouns: list[str], n: int) -> list[tuple[str, str]]:
    """n distinct (verb, noun) pairs in a seeded order (a list, not a set, so PYTHONHASHSEED cannot reorder it)."""
    out: list[tuple[str, str]] = []
    while len(out) < n:
        pair = (r.choice(VERBS), r.choice(nouns))
        if pair not in out:
            out.append(pair)
    return out


def python(r: random.Random, nouns: list[str], n: int = 12, header: str = "") -> str:
    out = [
        f'"""{header or "Helpers for " + nouns[0] + " records."}"""',
        "",
        "from __future__ import annotations",
        "",
        "import logging",
        "from dataclasses import dataclass, field",
        "from datetime import datetime, timedelta",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    noun = nouns[0]
    out += [
        "",
        "@dataclass",
        f"class {_pascal(noun)}:",
        "    id: str",
        "    name: str",
        "    created_at: datetime",
        "    tags: list[str] = field(default_factory=list)",
        "    active: bool = True",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _snake(verb, nn)
        out += [
            "",
            f"def {fn}(store, {nn}_id: str, *, limit: int = {r.choice([10, 50, 100, 500])}) -> list[dict]:",
            f'    """{verb.capitalize()} {nn} entries for the given id."""',
            f'    rows = store.query("{nn}s", {nn}_id=' + f"{nn}_id, limit=limit)",
            "    out = []",
            "    for row in rows:",
            f'        if not row.get("{r.choice(["active", "visible", "enabled"])}", True):',
            "            continue",
            f'        row["updated_at"] = row.get("updated_at") or datetime.utcnow() - timedelta(days={r.randint(1, 30)})',  # noqa: E501
            "        out.append(row)",
            f'    log.debug("{fn}: %d rows", len(out))',
            "    return out",
            "",
        ]
    return "\n".join(out)


def go(r: random.Random, nouns: list[str], pkg: str, n: int = 10) -> str:
    out = [
        f"package {pkg}",
        "",
        "import (",
        '\t"context"',
        '\t"errors"',
        '\t"fmt"',
        '\t"time"',
        ")",
        "",
        f'var ErrNotFound = errors.New("{pkg}: not found")',
        "",
    ]
    t = _pascal(nouns[0])
    out += [
        f"type {t} struct {{",
        "\tID        string",
        "\tName      string",
        "\tCreatedAt time.Time",
        "\tTags      []string",
        "}",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _pascal(verb, nn)
        out += [
            f"// {fn} {verb}s {nn} records; it returns ErrNotFound when none match.",
            f"func (s *Store) {fn}(ctx context.Context, id string) ([]{t}, error) {{",
            f"\tctx, cancel := context.WithTimeout(ctx, {r.choice([2, 5, 10])}*time.Second)",
            "\tdefer cancel()",
            f'\trows, err := s.db.QueryContext(ctx, "SELECT id, name, created_at FROM {nn}s WHERE owner_id = $1", id)',
            "\tif err != nil {",
            f'\t\treturn nil, fmt.Errorf("{fn}: %w", err)',
            "\t}",
            "\tdefer rows.Close()",
            f"\tvar out []{t}",
            "\tfor rows.Next() {",
            f"\t\tvar v {t}",
            "\t\tif err := rows.Scan(&v.ID, &v.Name, &v.CreatedAt); err != nil {",
            "\t\t\treturn nil, err",
            "\t\t}",
            "\t\tout = append(out, v)",
            "\t}",
            "\tif len(out) == 0 {",
            "\t\treturn nil, ErrNotFound",
            "\t}",
            "\treturn out, rows.Err()",
            "}",
            "",
        ]
    return "\n".join(out)


def typescript(r: random.Random, nouns: list[str], n: int = 10) -> str:
    t = _pascal(nouns[0])
    out = [
        "import { z } from 'zod';",
        "import { api } from '../lib/api';",
        "",
        f"export const {t}Schema = z.object({{",
        "  id: z.string(),",
        "  name: z.string(),",
        "  createdAt: z.string().datetime(),",
        "  tags: z.array(z.string()),",
        "});",
        f"export type {t} = z.infer<typeof {t}Schema>;",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _camel(verb, nn)
        out += [
            f"/** {verb} {nn} for the current view. */",
            f"export async function {fn}(id: string, opts: {{ signal?: AbortSignal }} = {{}}): Promise<" + t + "[]> {",
            f"  const res = await api.get(`/{nn}s/${{encodeURIComponent(id)}}`, {{ signal: opts.signal }});",
            f"  if (!res.ok) throw new Error(`{fn} failed: ${{res.status}}`);",
            f"  return z.array({t}Schema).parse(await res.json());",
            "}",
            "",
        ]
    return "\n".join(out)


def java(r: random.Random, nouns: list[str], pkg: str, cls: str, n: int = 10) -> str:
    t = _pascal(nouns[0])
    out = [
        f"package {pkg};",
        "",
        "import java.time.Instant;",
        "import java.util.ArrayList;",
        "import java.util.List;",
        "import java.util.Optional;",
        "import org.slf4j.Logger;",
        "import org.slf4j.LoggerFactory;",
        "",
        f"public class {cls} {{",
        f"    private static final Logger log = LoggerFactory.getLogger({cls}.class);",
        f"    private final {t}Repository repository;",
        "",
        f"    public {cls}({t}Repository repository) {{",
        "        this.repository = repository;",
        "    }",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _camel(verb, nn)
        out += [
            f"    public List<{t}> {fn}(String id) {{",
            f"        List<{t}> out = new ArrayList<>();",
            f"        for ({t} item : repository.findByOwner(id)) {{",
            "            if (item.getUpdatedAt().isAfter(Instant.now().minusSeconds("
            + str(r.randint(60, 86400))
            + "))) {",
            "                out.add(item);",
            "            }",
            "        }",
            f'        log.debug("{fn} returned {{}} items", out.size());',
            "        return out;",
            "    }",
            "",
        ]
    out.append("}")
    return "\n".join(out)


def rust(r: random.Random, nouns: list[str], n: int = 8) -> str:
    t = _pascal(nouns[0])
    out = [
        "use std::collections::HashMap;",
        "",
        "#[derive(Debug, Clone, PartialEq)]",
        f"pub struct {t} {{",
        "    pub id: u32,",
        "    pub name: String,",
        "    pub weight: i32,",
        "}",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _snake(verb, nn)
        out += [
            f"/// {verb.capitalize()} {nn} entries by id.",
            f"pub fn {fn}(items: &[{t}], key: u32) -> Vec<&{t}> {{",
            f"    let mut by_id: HashMap<u32, &{t}> = HashMap::new();",
            "    for it in items {",
            f"        if it.weight > {r.randint(-5, 20)} {{",
            "            by_id.insert(it.id, it);",
            "        }",
            "    }",
            "    let mut out: Vec<&" + t + "> = by_id.into_values().filter(|it| it.id != key).collect();",
            "    out.sort_by_key(|it| it.id);",
            "    out",
            "}",
            "",
        ]
    return "\n".join(out)


def csharp(r: random.Random, nouns: list[str], ns: str, cls: str, n: int = 8) -> str:
    t = _pascal(nouns[0])
    out = [
        "using System;",
        "using System.Collections.Generic;",
        "using System.Linq;",
        "using System.Threading.Tasks;",
        "",
        f"namespace {ns};",
        "",
        f"public sealed class {cls}",
        "{",
        f"    private readonly I{t}Repository _repo;",
        "",
        f"    public {cls}(I{t}Repository repo) => _repo = repo;",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        fn = _pascal(verb, nn)
        out += [
            f"    public async Task<IReadOnlyList<{t}>> {fn}Async(Guid id)",
            "    {",
            "        var items = await _repo.FindAsync(id).ConfigureAwait(false);",
            f"        return items.Where(x => x.Amount > {r.randint(0, 50)}m).OrderBy(x => x.CreatedAt).ToList();",
            "    }",
            "",
        ]
    out.append("}")
    return "\n".join(out)


def ruby(r: random.Random, nouns: list[str], cls: str, n: int = 8) -> str:
    out = [
        f"class {cls} < ApplicationRecord",
        f"  belongs_to :{nouns[1]}",
        f"  has_many :{nouns[2]}s, dependent: :destroy",
        "",
        "  validates :name, presence: true",
        "",
    ]
    for verb, nn in names(r, nouns, n):
        out += [
            f"  def {verb}_{nn}!(attrs = {{}})",
            f"    {nn}s.where(active: true).find_each do |rec|",
            f"      rec.update!(attrs.merge(touched_at: Time.current - {r.randint(1, 9)}.hours))",
            "    end",
            "  end",
            "",
        ]
    out.append("end")
    return "\n".join(out)
