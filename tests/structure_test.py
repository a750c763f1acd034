#!/usr/bin/python3
"""The structure a newcomer can change (issue: architecture), checked on the sources:
 - no method of PbftReplica or GeoBftReplica re-enters another through a chain of calls (the
   replicas are settle loops: a handler, then one pass; see PbftReplica::Settle, GeoBftReplica::Settle);
 - no class or struct in protocol/ or sim/ has more than 30 data members;
 - no function in protocol/ or sim/ is longer than 80 lines.
A C++-aware reading is not needed for this code base's style (clang-format'ed, one definition per
'Class::Method(' at column 0); the checks are plain text and fail loudly on what they cannot read.
Usage: structure_test.py SOURCE_ROOT"""
import glob
import re
import sys

MAX_MEMBERS, MAX_LINES = 30, 80


def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
    return re.sub(r'//[^\n]*', '', s)


def matching_brace(s, i):
    """Index just past the brace closing the one opened before i."""
    depth = 1
    while depth:
        if i >= len(s):
            raise SystemExit('unbalanced braces')
        depth += {'{': 1, '}': -1}.get(s[i], 0)
        i += 1
    return i


def method_cycles(cls, files):
    bodies = {}
    for path in files:
        s = strip_comments(open(path).read())
        for m in re.finditer(r'\b' + cls + r'::(\w+)\s*\([^;{]*?\)\s*(const)?\s*\{', s):
            bodies[m.group(1)] = bodies.get(m.group(1), '') + s[m.end():matching_brace(s, m.end())]
    if len(bodies) < 10:
        raise SystemExit(f'{cls}: found only {len(bodies)} methods; the check cannot read the sources')
    calls = {n: {c for c in re.findall(r'(?<![\w.>:])(\w+)\s*\(', b) if c in bodies} for n, b in bodies.items()}
    # Tarjan's strongly connected components: a component of two or more, or a self-call, is a cycle.
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(calls[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in calls[v]:
                cycles.append(sorted(comp))

    for v in sorted(calls):
        if v not in index:
            visit(v)
    return cycles


def data_members(path):
    """(class, count) for each class/struct body in a header: declarations at the body's own depth."""
    s = strip_comments(open(path).read())
    out = []
    for m in re.finditer(r'\b(class|struct)\s+(\w+)[^;{()]*\{', s):
        end = matching_brace(s, m.end())
        body, depth, stmt, count = s[m.end():end - 1], 0, '', 0
        for ch in body:
            if ch == '{':
                depth += 1
            elif ch == '}':
                depth -= 1
                if depth == 0 and re.search(r'\)[^;=]*$', stmt.split('{')[0]):
                    stmt = ''  # a function body ended
                    continue
            if depth:
                stmt += ch if ch != ';' else ' '
                continue
            if ch != ';':
                stmt += ch
                continue
            st = re.sub(r'^\s*(public|private|protected)\s*:', '', stmt.strip()).strip()
            stmt = ''
            head = re.sub(r'\{.*', '', st).split('=')[0]
            if not st or re.match(r'(using|typedef|static|friend|enum|class|struct|template|public|private)\b', st):
                continue
            if '(' in head and not re.search(r'\w_?\s*\{', st) and not re.search(r'\w+_\s*\(', head):
                continue  # a method declaration
            depth_p, n = 0, 1
            for c in head:
                depth_p += c in '<(' and 1 or (c in '>)' and -1 or 0)
                n += c == ',' and depth_p == 0
            count += n
        out.append((m.group(2), count))
    return out


def long_functions(path):
    lines, out, start = open(path).read().split('\n'), [], None
    for i, line in enumerate(lines):
        if start is None and line and not line[0].isspace() and '(' in line and not line.startswith(
                ('//', '#', 'namespace', 'struct', 'class', 'enum', 'using', 'TEST')):
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith(('{', ';')):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith('{'):
                start = i
        elif start is not None and line == '}':
            if i - start + 1 > MAX_LINES:
                out.append(f'{path}:{start + 1}: {i - start + 1} lines: {lines[start][:70]}')
            start = None
    return out


def main(root):
    problems = []
    for cls, pattern in (('PbftReplica', 'protocol/pbft_*.cc'), ('GeoBftReplica', 'protocol/geobft_*.cc')):
        for cycle in method_cycles(cls, sorted(glob.glob(f'{root}/{pattern}'))):
            problems.append(f'{cls}: methods calling one another in a cycle: {" ".join(cycle)}')
    headers = sorted(glob.glob(f'{root}/protocol/*.h') + glob.glob(f'{root}/sim/*.h'))
    seen = 0
    for h in headers:
        for cls, n in data_members(h):
            seen += 1
            if n > MAX_MEMBERS:
                problems.append(f'{h}: {cls} has {n} data members (at most {MAX_MEMBERS})')
    if seen < 20:
        problems.append(f'read only {seen} classes: the check cannot read the headers')
    for cc in sorted(glob.glob(f'{root}/protocol/*.cc') + glob.glob(f'{root}/sim/*.cc') + glob.glob(f'{root}/sim/cli/*.cc')):
        problems += long_functions(cc)
    for p in problems:
        print('FAIL:', p)
    if not problems:
        print(f'ok: no method cycle in PbftReplica or GeoBftReplica, {seen} classes within {MAX_MEMBERS} data members, '
              f'no function over {MAX_LINES} lines')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
