"""Filler source code in several languages, built from a caller's domain nouns, to surround the lines that matter."""

from __future__ import annotations

import random
from collections.abc import Sequence

VERBS = (
    "load",
    "resolve",
    "validate",
    "apply",
    "build",
    "refresh",
    "sync",
    "merge",
    "compute",
    "persist",
    "publish",
    "reconcile",
    "normalize",
    "enqueue",
    "fetch",
)

STATUSES = ["ACCEPTED", "REJECTED", "PENDING_REVIEW"]


def snake(*parts: str) -> str:
    return "_".join(p.lower() for p in parts)


def camel(*parts: str) -> str:
    first, *rest = [p.lower() for p in parts]
    return first + "".join(x.capitalize() for x in rest)


def pascal(*parts: str) -> str:
    return "".join(p.capitalize() for p in parts)


def third_person(verb: str) -> str:
    if verb.endswith(("sh", "ch", "s", "x")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def py_function(r: random.Random, noun: str, method: bool = True) -> str:
    verb = r.choice(VERBS)
    arg = r.choice(["record", "payload", "item", "entry", "request"])
    t = pascal(*noun.split("_"))
    self_ = "self, " if method else ""
    ind = "    " if method else ""
    lines = [
        f"{ind}def {snake(verb, noun)}({self_}{arg}: {t}, *, strict: bool = False) -> {t} | None:",
        f'{ind}    """{verb.capitalize()} a {noun.replace("_", " ")} before it is handed to the next stage."""',
        f"{ind}    if {arg} is None:",
        f"{ind}        return None",
    ]
    for _ in range(r.randint(2, 6)):
        k = r.random()
        field = r.choice(["status", "updated_at", "owner_id", "region", "amount_minor", "currency", "version", "tags"])
        if k < 0.3:
            lines.append(f"{ind}    if strict and not {arg}.{field}:")
            lines.append(f'{ind}        raise ValueError("{noun} {{}} has no {field}".format({arg}.id))')
        elif k < 0.6:
            lines.append(
                f"{ind}    {arg}.{field} = {r.choice(['_clean', '_coerce', 'normalize_value'])}({arg}.{field})"
            )
        elif k < 0.8:
            lines.append(f'{ind}    log.debug("{verb} {noun}", extra={{"id": {arg}.id, "{field}": {arg}.{field}}})')
        else:
            lines.append(f'{ind}    {"self." if method else ""}_metrics.incr("{noun}.{verb}")')
    lines.append(f"{ind}    return {arg}")
    return "\n".join(lines)


def py_module(r: random.Random, nouns: Sequence[str], n: int, header: str = "") -> str:
    out = [
        header or '"""Internal helpers."""',
        "",
        "from __future__ import annotations",
        "",
        "import logging",
        "from dataclasses import dataclass",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    cls = pascal(*r.choice(nouns).split("_")) + r.choice(["Service", "Repository", "Manager", "Handler"])
    out += [
        "",
        f"class {cls}:",
        "    def __init__(self, repo, metrics) -> None:",
        "        self._repo = repo",
        "        self._metrics = metrics",
        "",
    ]
    for _ in range(n):
        out.append(py_function(r, r.choice(nouns)))
        out.append("")
    return "\n".join(out)


def ts_handler(r: random.Random, noun: str) -> str:
    verb = r.choice(VERBS)
    fn = camel(verb, *noun.split("_"))
    return "\n".join(
        [
            f"export async function {fn}(req: FastifyRequest<{{ Params: {{ id: string }} }}>, reply: FastifyReply) {{",
            f"  const {camel(noun)} = await req.server.db.{camel(*noun.split('_'))}.findUnique({{ where: {{ id: "
            f"req.params.id }} }});",
            f"  if (!{camel(noun)}) {{",
            f"    return reply.code(404).send({{ error: '{noun}_not_found' }});",
            "  }",
            f"  req.log.info({{ id: req.params.id, op: '{verb}' }}, '{noun} {verb}');",
            f"  return reply.send(serialize{pascal(*noun.split('_'))}({camel(noun)}));",
            "}",
        ]
    )


def go_func(r: random.Random, recv: str, noun: str) -> str:
    verb = r.choice(VERBS)
    name = pascal(verb, *noun.split("_"))
    t = pascal(*noun.split("_"))
    body = [
        f"// {name} {third_person(verb)} a {noun.replace('_', ' ')} for the planner.",
        f"func ({recv[0].lower()} *{recv}) {name}(ctx context.Context, id string) (*{t}, error) {{",
        f"\tv, err := {recv[0].lower()}.store.Get{t}(ctx, id)",
        "\tif err != nil {",
        f'\t\treturn nil, fmt.Errorf("{verb} {noun} %s: %w", id, err)',
        "\t}",
    ]
    zeros = {"Weight": "0", "Zone": '""', "Carrier": '""', "Deadline": "nil", "Priority": "0"}
    for f in r.sample(sorted(zeros), r.randint(1, 3)):
        zero = zeros[f]
        body.append(f"\tif v.{f} == {zero} {{")
        body.append(f'\t\t{recv[0].lower()}.log.Debug("missing {f.lower()}", "id", id)')
        body.append("\t}")
    body += ["\treturn v, nil", "}"]
    return "\n".join(body)


def kotlin_test(r: random.Random, subject: str, phrase: str) -> str:
    amount = r.randint(1, 900) * 10
    return "\n".join(
        [
            "    @Test",
            f"    fun `{phrase}`() {{",
            f"        val account = fixtures.account(balance = Money.of({amount}, EUR))",
            f"        val result = {subject}.execute(command(account, Money.of({r.randint(1, 900)}, EUR)))",
            f"        assertThat(result.status).isEqualTo(Status.{r.choice(STATUSES)})",
            f"        verify(exactly = {r.randint(0, 2)}) {{ ledger.post(any()) }}",
            "    }",
        ]
    )


def rust_fn(r: random.Random, noun: str) -> str:
    verb = r.choice(VERBS)
    return "\n".join(
        [
            f"/// {third_person(verb).capitalize()} the {noun.replace('_', ' ')} buffers for one mesh.",
            f"pub fn {snake(verb, noun)}(&mut self, mesh: &Mesh) -> Result<(), BakeError> {{",
            f"    let mut scratch = Vec::with_capacity(mesh.vertices.len() * {r.choice([2, 3, 4])});",
            "    for (i, v) in mesh.vertices.iter().enumerate() {",
            f"        scratch.push(v.position * self.scale + Vec3::splat(self.bias * {r.randint(1, 4)}.0 * (i % 2) as "
            "f32));",
            "    }",
            f"    self.{noun}.extend_from_slice(&scratch);",
            f'    trace!("{verb} {noun}: {{}} vertices", scratch.len());',
            "    Ok(())",
            "}",
        ]
    )


def csharp_method(r: random.Random, noun: str) -> str:
    verb = r.choice(VERBS)
    t = pascal(*noun.split("_"))
    return "\n".join(
        [
            f"        public async Task<{t}> {pascal(verb)}{t}Async(string id, CancellationToken ct)",
            "        {",
            f"            var entity = await _db.{t}s.FindAsync(new object[] {{ id }}, ct);",
            "            if (entity is null)",
            f'                throw new NotFoundException($"{noun} {{id}} not found");',
            f'            _logger.LogDebug("{verb} {{Id}}", id);',
            "            return entity;",
            "        }",
        ]
    )


def php_method(r: random.Random, noun: str) -> str:
    verb = r.choice(VERBS)
    return "\n".join(
        [
            f"    public function {camel(verb, *noun.split('_'))}(int $id): ?array",
            "    {",
            f"        $row = DB::table('{noun}s')->where('id', $id)->first();",
            "        if ($row === null) {",
            "            return null;",
            "        }",
            f"        Log::debug('{verb} {noun}', ['id' => $id]);",
            "        return (array) $row;",
            "    }",
        ]
    )


def ruby_method(r: random.Random, noun: str) -> str:
    verb = r.choice(VERBS)
    return "\n".join(
        [
            f"  def {snake(verb, noun)}({noun})",
            f"    return if {noun}.nil?",
            "",
            f"    {noun}.update!(status: :{r.choice(['pending', 'active', 'settled', 'closed'])}, "
            f"synced_at: Time.current)",
            f'    Rails.logger.info("[{verb}] {noun}=#{{{noun}.id}}")',
            "  end",
        ]
    )
