using Flash.Ffs.Format;

namespace Flash.Ffs.Recovery;

/// <summary>
/// A log page found by the recovery scan: its sequence, physical page and tag. The open-transaction scan
/// (<see cref="Recovery.OpenTxnPages"/>) adds the pages of transactions the checkpoint listed as open to the same list.
/// </summary>
internal readonly record struct LoggedPage(ulong Sequence, int Page, PageTag Tag);
