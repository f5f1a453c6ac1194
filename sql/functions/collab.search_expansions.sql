-- Common programming abbreviations and the words they stand for (code-aware tokenization):
-- a document or query with the short form also gets the lexemes of the long form, so
-- "Return the directory of the buffer" meets `dir` and `buf`. A general list of identifier
-- habits, not drawn from any evaluation set; keys are English lexemes (collab.search_terms).
create or replace function collab.search_expansions()
returns table (short text, long text)
language sql
immutable
parallel safe
as $$
  select v.short, v.long from (values
    ('abs', 'absolute'), ('addr', 'address'), ('alloc', 'allocate'), ('arg', 'argument'),
    ('attr', 'attribute'), ('auth', 'authentication'), ('bool', 'boolean'), ('buf', 'buffer'),
    ('calc', 'calculate'), ('cb', 'callback'), ('cfg', 'configuration'), ('char', 'character'),
    ('chr', 'character'), ('cls', 'class'), ('cmd', 'command'), ('cmp', 'compare'),
    ('cnt', 'count'), ('conf', 'configuration'), ('config', 'configuration'),
    ('conn', 'connection'), ('ctx', 'context'), ('cur', 'current'), ('db', 'database'),
    ('decl', 'declaration'), ('dest', 'destination'),
    ('dict', 'dictionary'), ('diff', 'difference'), ('dir', 'directory'), ('doc', 'document'),
    ('dst', 'destination'), ('elem', 'element'), ('enc', 'encoding'), ('env', 'environment'),
    ('eof', 'end file'), ('err', 'error'), ('exc', 'exception'), ('exe', 'executable'),
    ('expr', 'expression'), ('ext', 'extension'), ('fd', 'file descriptor'), ('fh', 'file'),
    ('fmt', 'format'), ('fn', 'function'), ('fp', 'file'), ('func', 'function'),
    ('gen', 'generator'), ('hdr', 'header'), ('idx', 'index'), ('impl', 'implementation'),
    ('info', 'information'), ('init', 'initialize'), ('int', 'integer'), ('iter', 'iterator'),
    ('kw', 'keyword'), ('kwarg', 'keyword argument'), ('len', 'length'), ('lib', 'library'),
    ('lineno', 'line number'), ('ln', 'line'), ('lst', 'list'), ('max', 'maximum'),
    ('mem', 'memory'), ('meth', 'method'), ('min', 'minimum'), ('mod', 'module'),
    ('msg', 'message'), ('ns', 'namespace'), ('num', 'number'), ('obj', 'object'),
    ('op', 'operation'), ('opt', 'option'), ('param', 'parameter'), ('pid', 'process'),
    ('pos', 'position'), ('prev', 'previous'), ('proc', 'process'), ('prop', 'property'),
    ('ptr', 'pointer'), ('recv', 'receive'), ('ref', 'reference'), ('repr', 'representation'),
    ('req', 'request'), ('res', 'result'), ('resp', 'response'), ('ret', 'return'),
    ('sep', 'separator'), ('seq', 'sequence'), ('sock', 'socket'), ('spec', 'specification'),
    ('src', 'source'), ('stat', 'status'), ('str', 'string'), ('sync', 'synchronize'),
    ('sys', 'system'), ('tb', 'traceback'), ('tmp', 'temporary'), ('ts', 'timestamp'),
    ('tup', 'tuple'), ('val', 'value'), ('var', 'variable'), ('ver', 'version'),
    ('win', 'window')
  ) v(short, long)
$$;
comment on function collab.search_expansions() is
  'Programming abbreviations (short lexeme) and the words they stand for, added as terms by collab.search_terms (code-aware tokenization).';
