-- A double-entry ledger for Divy's postings (PostgreSQL).
--
-- Every transfer is one row of `postings`, keyed by its id. Divy's ids are deterministic, but a
-- delta's payouts must be applied as a whole, once per delta_id: the same delta_id can come back
-- with other payouts (the same counters sent with other assignments, or a settlement's final
-- delta over the counters of a realtime delta), and keeping some postings of one answer and some
-- of another would pay the delta a wrong sum. `apply_answer` below does that: it records the
-- delta in `deltas` and inserts its payouts only if the delta is new, and applies the release on
-- its own id. numeric(38, 9) holds Divy's default credit scale (CREDIT_SCALE=9) exactly, with 29
-- whole digits: far beyond the largest job, (2^32 - 1) tokens at 2^18 credits a token.

create table accounts (
  id text primary key
);

-- The deltas whose payouts the ledger holds: one row per delta_id, for the first answer applied.
create table deltas (
  id text primary key
);

create table postings (
  id text primary key,
  debit_account text not null references accounts (id),
  credit_account text not null references accounts (id),
  amount numeric(38, 9) not null check (amount > 0),
  -- The delta a payout belongs to; null for a release and for the wallet's own postings.
  delta_id text references deltas (id)
);

create index postings_debit_account on postings (debit_account);
create index postings_credit_account on postings (credit_account);
create index postings_delta_id on postings (delta_id);

-- What each account holds: what it was credited minus what it was debited.
create view balances as
select
  accounts.id as account,
  coalesce((select sum(amount) from postings where postings.credit_account = accounts.id), 0)
    - coalesce((select sum(amount) from postings where postings.debit_account = accounts.id), 0) as balance
from accounts;

-- One transfer, on its own id: opens both accounts, and does nothing if the id is already there.
-- The amount is the decimal string as received, never a float; an amount finer than the column's
-- 9 fraction digits is refused rather than rounded. Returns whether the transfer was new.
create function post_transfer(p_id text, p_debit_account text, p_credit_account text, p_amount text, p_delta_id text default null)
returns boolean
language plpgsql
as $$
declare
  v_amount numeric := p_amount::numeric;
  v_inserted text;
begin
  if v_amount <> round(v_amount, 9) then
    raise exception 'posting %: amount % has more than 9 fraction digits; widen postings.amount', p_id, p_amount;
  end if;
  insert into accounts (id) values (p_debit_account), (p_credit_account) on conflict (id) do nothing;
  insert into postings (id, debit_account, credit_account, amount, delta_id)
    values (p_id, p_debit_account, p_credit_account, v_amount, p_delta_id)
    on conflict (id) do nothing
    returning id into v_inserted;
  return v_inserted is not null;
end
$$;

-- One answer of /realtime-delta or /settle: its `delta_id` and its `postings`, as received.
--   payout postings: applied only if the delta_id is new, all of them, in this call;
--   release postings: applied on their own id (a job's release has one id).
-- A posting of another kind, an amount that is not a string, or payouts without a delta_id are
-- refused with an error, and nothing of the answer is applied.
-- The call is one transaction: an answer is applied whole or not at all. Applying any answer any
-- number of times, in any order, changes nothing after its first application, and a delta_id
-- applied once is never paid again, whatever payouts a later answer names for it. Returns how
-- many postings the answer added.
create function apply_answer(p_delta_id text, p_postings jsonb)
returns integer
language plpgsql
as $$
declare
  v_posting jsonb;
  v_new_delta text;
  v_added integer := 0;
begin
  if jsonb_typeof(p_postings) is distinct from 'array' then
    raise exception 'postings must be a JSON array';
  end if;
  for v_posting in select value from jsonb_array_elements(p_postings) loop
    if v_posting->>'kind' is null or v_posting->>'kind' not in ('payout', 'release') then
      raise exception 'posting %: kind must be payout or release, not %', v_posting->>'id', coalesce(v_posting->>'kind', 'missing');
    end if;
    if jsonb_typeof(v_posting->'amount') is distinct from 'string' then
      raise exception 'posting %: amount must be the decimal string Divy answered', v_posting->>'id';
    end if;
  end loop;
  -- An answer without payouts (a settlement with no final delta to burn) records no delta.
  if exists (select from jsonb_array_elements(p_postings) as each (value) where value->>'kind' = 'payout') then
    if p_delta_id is null then
      raise exception 'payouts come with the delta_id of their answer';
    end if;
    insert into deltas (id) values (p_delta_id) on conflict (id) do nothing returning id into v_new_delta;
  end if;
  for v_posting in select value from jsonb_array_elements(p_postings) loop
    if v_posting->>'kind' = 'payout' then
      -- A delta seen before keeps the payouts of its first answer: skip these, all of them.
      continue when v_new_delta is null;
      -- A new delta's payout ids are new: they are digests of the delta_id.
      if not post_transfer(v_posting->>'id', v_posting->>'debit_account', v_posting->>'credit_account', v_posting->>'amount', p_delta_id) then
        raise exception 'payout % of the new delta % is already in the ledger', v_posting->>'id', p_delta_id;
      end if;
      v_added := v_added + 1;
    elsif post_transfer(v_posting->>'id', v_posting->>'debit_account', v_posting->>'credit_account', v_posting->>'amount') then
      v_added := v_added + 1;
    end if;
  end loop;
  return v_added;
end
$$;
