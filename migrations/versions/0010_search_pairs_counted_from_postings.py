"""Search indexes faster (issue 16): a word pair's document frequency is the length of its
postings list, so the vocabulary keeps the words only; a document's body and term list are
compressed with lz4.

Word pairs (the proximity terms of a page's lead, collab.search_pair_terms) were 84 % of the
rows of collab.search_vocabulary and most of its upserts while indexing; they are rare (a few
postings each), so collab.search_rank counts a query's pairs in collab.search_postings instead.
The ranking is unchanged: a term's document frequency is the number of its postings either
way. Up: the code of this revision, then the pair rows go from the vocabulary. Down: the pair
rows are counted back from the postings, then the code of 0009.

api.claim and api.complete_batch also turn bitmap scans off (issue 18): statistics of
collab.jobs that say it is empty (an analyze that met nearly only dead rows) made the planner
read the workspace's jobs by a bitmap scan for every claim (40 times the cost of a claim with
150,000 jobs queued) and every batch of completions (122 ms for 32 instead of 1.9 ms)
(tests/py/integration/test_claim_plan_without_statistics.py).

lz4 (where the server has it, as sql/schema.sql): storing a large page took a third of the time
pglz took, for about 12 % more bytes; rows already stored keep their compression until they
are written again. Down: the server's default again.

Online: the switch (the code, lz4: no rewrite) takes its locks as 0009's does, all at once in
tries of 150 ms (collab.migration_ops.lock_code_tables), and holds them for the code reset
only; the pair rows are deleted after it commits, in a transaction of their own (the new code
never reads or writes them). tests/py/migration/test_online_0009.py migrates to the head under
a claimer whose lock_timeout is 1 s. The downgrade also locks collab.search_collections, so
that no indexer runs while the pairs are counted back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:10:00.000000
"""

from __future__ import annotations

from alembic import op

from collab.migration_ops import apply_snapshot, execute_script, lock_code_tables, reset_code

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0010"
PREVIOUS_SNAPSHOT = "0009"

# Under the switch's locks: the comments and lz4.
STORAGE_UP = """
comment on table collab.search_postings is 'The inverted index (issue 16): one row per term and document, with the field-weighted term frequency and the document''s weighted length, so a query reads no document row before its top k; the document frequencies of words are in collab.search_vocabulary, a word pair''s is the number of its postings.';
comment on table collab.search_vocabulary is 'Document frequency of every word of a collection (issue 16): the number of its documents with a posting for the word, kept by collab.search_index (under the collection row''s lock) so that BM25''s idf is one primary-key read per query word. Word pairs (terms with a space) are not kept here: collab.search_rank counts their postings (revision 0010).';
do $$
begin
  alter table collab.search_documents alter column body set compression lz4,
                                      alter column terms set compression lz4;
exception when feature_not_supported then
  raise notice 'lz4 is not available on this server: collab.search_documents keeps pglz';
end
$$;
"""

# After the switch has committed, in a transaction of its own: the code of this revision
# neither reads nor writes a pair's row, so they can go while indexing and searching go on.
PAIRS_OUT = """
delete from collab.search_vocabulary v where pg_catalog.strpos(v.term, ' ') > 0;
"""

PAIRS_BACK = """
insert into collab.search_vocabulary (workspace_id, collection, term, document_frequency)
select p.workspace_id, p.collection, p.term, count(*)
  from collab.search_postings p
 where pg_catalog.strpos(p.term, ' ') > 0
 group by p.workspace_id, p.collection, p.term
on conflict on constraint search_vocabulary_pkey
do update set document_frequency = excluded.document_frequency;
comment on table collab.search_postings is 'The inverted index (issue 16): one row per term and document, with the field-weighted term frequency and the document''s weighted length, so a query reads no document row before its top k; document frequencies are in collab.search_vocabulary.';
comment on table collab.search_vocabulary is 'Document frequency of every term of a collection (issue 16): the number of its documents with a posting for the term, kept by collab.search_index (under the collection row''s lock) so that BM25''s idf is one primary-key read per query term.';
alter table collab.search_documents alter column body set compression default,
                                    alter column terms set compression default;
"""


def upgrade() -> None:
    lock_code_tables(revision, also=("collab.search_documents",))
    reset_code()
    apply_snapshot(SNAPSHOT)
    execute_script(STORAGE_UP)
    with op.get_context().autocommit_block():
        execute_script(PAIRS_OUT)


def downgrade() -> None:
    # The collections' table too: no indexer or search runs while the pairs are counted back
    # and the code of 0009 (which keeps them) comes in.
    lock_code_tables(revision, also=("collab.search_documents", "collab.search_collections"))
    execute_script(PAIRS_BACK)
    reset_code()
    apply_snapshot(PREVIOUS_SNAPSHOT)
