"""Round-trip helper for authors who prefer a text editor: `py2nb` turns a `# %%` percent
script into a notebook (outputs kept for unchanged cells), `nb2py` does the reverse.
Only the notebooks are committed; the percent scripts are scratch files."""
import json, sys, re, hashlib
from pathlib import Path

MD = '# %% [markdown]'

def nb2py(nb_path, py_path):
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            out.append(MD + '\n' + '\n'.join(('# ' + l) if l else '#' for l in src.split('\n')))
        else: out.append('# %%\n' + src)
    Path(py_path).write_text('\n\n'.join(out) + '\n')

def _cells(text):
    parts = re.split(r'^(# %%(?: \[markdown\])?)[ \t]*\n', text, flags=re.M)
    cells = []
    for i in range(1, len(parts), 2):
        kind, body = parts[i], parts[i+1].rstrip('\n')
        if kind == MD:
            body = '\n'.join(l[2:] if l.startswith('# ') else l.lstrip('#') for l in body.split('\n'))
            cells.append(('markdown', body))
        else: cells.append(('code', body))
    return cells

def py2nb(py_path, nb_path):
    old = {}
    p = Path(nb_path)
    if p.exists():
        for c in json.loads(p.read_text())['cells']:
            if c['cell_type'] == 'code': old[''.join(c['source'])] = c.get('outputs', [])
    cells, seen = [], set()
    for kind, body in _cells(Path(py_path).read_text()):
        src = [l + '\n' for l in body.split('\n')]
        if src: src[-1] = src[-1][:-1]
        cid = hashlib.sha1((kind + body).encode()).hexdigest()[:8]
        while cid in seen: cid = hashlib.sha1(cid.encode()).hexdigest()[:8]
        seen.add(cid)  # stable ids: nbdev_export writes them into the package
        c = {'cell_type': kind, 'id': cid, 'metadata': {}, 'source': src}
        if kind == 'code': c.update(execution_count=None, outputs=old.get(body, []))
        cells.append(c)
    nb = {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
          'nbformat': 4, 'nbformat_minor': 5}
    p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

if __name__ == '__main__':
    cmd, a, b = sys.argv[1:4]
    {'py2nb': py2nb, 'nb2py': nb2py}[cmd](a, b)
