using Flash.Ffs.Wear;

namespace Flash.Ffs.Blocks;

/// <summary>
/// How the pool's indexes (<see cref="FreeBlockIndex"/>, <see cref="EraseCountSummary"/>, the emptied-block bits) follow
/// the block table: told of every state change by <see cref="BlockStates"/>, re-keyed around every erase-count or
/// erased-flag change the pool makes, rebuilt once after the checkpoint decoder loaded the table wholesale.
/// </summary>
internal sealed partial class BlockPool
{
    /// <inheritdoc />
    void IBlockStateObserver.StateChanged(int block, BlockState from, BlockState to)
    {
        if (to == BlockState.Full && Table.Valid[block] == 0)
        {
            // Closed (or abandoned) with nothing live: a candidate for the free pool once a checkpoint covers it.
            Table.MarkEmptied(block);
        }

        if (!_indexed)
        {
            return;
        }

        uint ec = Table.EraseCount[block];
        if (from == BlockState.Free)
        {
            _free.Remove(block, ec, Table.Erased[block]);
        }

        if (to == BlockState.Free)
        {
            _free.Add(block, ec, Table.Erased[block]);
        }

        if (Counted(from) != Counted(to))
        {
            if (Counted(to))
            {
                _wear.Add(ec);
            }
            else
            {
                _wear.Remove(ec);
            }
        }
    }

    /// <inheritdoc />
    void IBlockStateObserver.Invalidated() => _indexed = false;

    /// <summary>Whether a block in <paramref name="state"/> counts in the erase-count summary: good and not an anchor.</summary>
    private static bool Counted(BlockState state) => state is not (BlockState.Bad or BlockState.Retiring or BlockState.Anchor);

    /// <summary>Builds the free index and the erase-count summary from the table (after mount loaded it wholesale).</summary>
    private void EnsureIndexed()
    {
        if (_indexed)
        {
            return;
        }

        _free.Clear();
        _wear.Clear();
        for (int b = 0; b < Table.Count; b++)
        {
            var state = Table.State[b];
            if (state == BlockState.Free)
            {
                _free.Add(b, Table.EraseCount[b], Table.Erased[b]);
            }

            if (Counted(state))
            {
                _wear.Add(Table.EraseCount[b]);
            }
        }

        _indexed = true;
    }

    /// <summary>Takes a block out of the indexes before its erase count or erased flag changes; returns whether they follow the table.</summary>
    private bool Unindex(int block)
    {
        if (!_indexed)
        {
            return false;
        }

        var state = Table.State[block];
        if (state == BlockState.Free)
        {
            _free.Remove(block, Table.EraseCount[block], Table.Erased[block]);
        }

        if (Counted(state))
        {
            _wear.Remove(Table.EraseCount[block]);
        }

        return true;
    }

    /// <summary>Puts a block back into the indexes after <see cref="Unindex"/> returned <paramref name="indexed"/>.</summary>
    private void Reindex(int block, bool indexed)
    {
        if (!indexed)
        {
            return;
        }

        var state = Table.State[block];
        if (state == BlockState.Free)
        {
            _free.Add(block, Table.EraseCount[block], Table.Erased[block]);
        }

        if (Counted(state))
        {
            _wear.Add(Table.EraseCount[block]);
        }
    }

    private void SetErased(int block, bool erased)
    {
        if (Table.Erased[block] != erased)
        {
            bool indexed = Unindex(block);
            Table.Erased[block] = erased;
            Reindex(block, indexed);
        }
    }
}
