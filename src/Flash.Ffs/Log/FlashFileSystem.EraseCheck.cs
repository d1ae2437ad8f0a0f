using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>
/// Programming only erased pages. A block this mount erased itself is known erased. Anything else (free blocks the
/// checkpoint calls erased, the heads' blocks it continues, the anchor block's next page) was erased by an earlier
/// mount, and a damaged or hand-edited image may hold data there whose tag reads erased: programming over it would
/// destroy both. Such a page is read whole (data and spare) before its first program; a block that is not erased is
/// left (closed, to be erased before its next use) and the write goes elsewhere.
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Blocks erased by this mount: their pages need no check.</summary>
    private bool[] _erasedHere = [];

    private byte[] _verifyData = [];
    private byte[] _verifySpare = [];

    /// <summary>
    /// Whether <paramref name="page"/> of <paramref name="block"/> can be programmed now (see the class remarks).
    /// <paramref name="inherited"/>: the block was already being written when this mount found it, so this page and
    /// every later one of the block are checked (NAND programs pages in ascending order only); the caller checks
    /// inherited blocks once. A fresh block this mount did not erase gets its first and last page checked when its
    /// first page is programmed: a block written back or swapped in is programmed there.
    /// </summary>
    private bool ReadyToProgram(int block, int page, bool inherited)
    {
        if (_erasedHere.Length == 0)
        {
            _erasedHere = new bool[_blocks.Count];
        }

        int index = page % _ppb;
        if (_erasedHere[block] || (!inherited && index != 0))
        {
            return true;
        }

        if (_device.IsBad(block))
        {
            _log.LogWarning(FfsEvents.BadBlock, "Block {Block} is marked bad on the device; it is no longer used", block);
            _blocks.State.Apply(block, BlockTransition.MarkBad);
            _goodBlocksCache = -1;
            return false;
        }

        int lastPage = (block * _ppb) + _ppb - 1;
        bool erased = inherited ? RangeIsErased(page, lastPage) : PageIsErased(page) && PageIsErased(lastPage);
        if (!erased)
        {
            _log.LogWarning(FfsEvents.NotErased, "Page {Page} or a later one of block {Block} should be erased and is not; the block is closed and will be erased before its next use", page, block);
            _notErasedFound++;
        }

        return erased;
    }

    private bool RangeIsErased(int from, int to)
    {
        for (int p = from; p <= to; p++)
        {
            if (!PageIsErased(p))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a page reads all 0xFF, data and spare.</summary>
    private bool PageIsErased(int page)
    {
        if (_verifyData.Length == 0)
        {
            _verifyData = new byte[_g.PageSize];
            _verifySpare = new byte[_g.SpareSize];
        }

        _device.Read(page, _verifyData, _verifySpare);
        return !_verifyData.AsSpan().ContainsAnyExcept((byte)0xFF) && !_verifySpare.AsSpan().ContainsAnyExcept((byte)0xFF);
    }

    /// <summary>Pages found not erased where they should have been, since mount.</summary>
    private long _notErasedFound;

    /// <summary>Notes that this mount erased <paramref name="block"/>.</summary>
    private void NoteErasedHere(int block)
    {
        if (_erasedHere.Length == 0)
        {
            _erasedHere = new bool[_blocks.Count];
        }

        _erasedHere[block] = true;
    }
}
