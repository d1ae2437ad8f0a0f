using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Format;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>
/// An unreadable tag in the replayed log is not a cut-off (issue 16, format version 4): the tags' transaction page
/// ordinals tell which committed transaction lost the page, so that transaction is dropped with what depends on it,
/// later independent transactions are applied, and the drop is reported in the mount report and as a warning. A lost
/// page the ordinals cannot account for (a commit page) still stops the replay there.
/// </summary>
public class DamagedTagReplayTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 64, 24);

    private static int Raw => s_geometry.PageSize + s_geometry.SpareSize;

    private static int TagOffset => s_geometry.PageSize + s_geometry.SpareFreeOffset;

    /// <summary>Data and metadata tags in the image: page, kind, commit flag, sequence, object id, chunk.</summary>
    private static List<(int Page, int Kind, bool Commit, ulong Seq, uint Id, uint Chunk)> Tags(byte[] image)
    {
        var tags = new List<(int, int, bool, ulong, uint, uint)>();
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            if (PageTag.TryRead(image.AsSpan((p * Raw) + TagOffset, PageTag.Size), out var t))
            {
                tags.Add((p, (int)t.Kind, t.IsCommit, t.Sequence, t.ObjectId, t.Chunk));
            }
        }

        return tags;
    }

    /// <summary>
    /// /pad before the checkpoint; after it /victim (three chunks), /other (independent), then /victim renamed (depends
    /// on it). Saved without unmounting. Returns the image and /victim's file id.
    /// </summary>
    private static (byte[] Image, byte[] Pad, byte[] Victim, byte[] Other) Write()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 5 });
        var fs = FfsTestDevice.FormatAndMount(dev);
        var pad = FfsTestDevice.Pattern(5000, 1);
        var victim = FfsTestDevice.Pattern(3 * 2048, 2);
        var other = FfsTestDevice.Pattern(4500, 3);
        fs.WriteAllBytes("/pad", pad);
        fs.Sync();
        fs.WriteAllBytes("/victim", victim);
        fs.WriteAllBytes("/other", other);
        fs.Rename("/victim", "/renamed");
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return (ms.ToArray(), pad, victim, other);
    }

    private static (FlashSimulator Dev, FlashFileSystem Fs, RecordingLogger Log) Mount(byte[] image)
    {
        var dev = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry });
        var log = new RecordingLogger();
        return (dev, FlashFileSystem.Mount(dev, new FlashFileSystemOptions { Logger = log }), log);
    }

    [Fact]
    public void A_damaged_data_page_tag_drops_its_transaction_and_what_depends_on_it_and_nothing_else()
    {
        var (image, pad, victim, other) = Write();
        var tags = Tags(image);
        var middle = tags.Single(t => t.Kind == 1 && t.Chunk == 1 && image.AsSpan(t.Page * Raw, 2048).SequenceEqual(victim.AsSpan(2048, 2048)));
        image[(middle.Page * Raw) + TagOffset + 29] ^= 0x04;

        var (dev, fs, log) = Mount(image);
        using (dev)
        {
            Assert.Equal(pad, fs.ReadAllBytes("/pad"));
            Assert.Equal(other, fs.ReadAllBytes("/other"));
            Assert.False(fs.Exists("/victim"));
            Assert.False(fs.Exists("/renamed"));

            var report = fs.MountReport;
            Assert.Null(report.ReplayStoppedAt);
            Assert.Contains(middle.Page, report.DamagedPages);
            Assert.Equal(2, report.Dropped.Count);
            Assert.Contains(report.Dropped, d => d.Contains("a data page of it cannot be read", StringComparison.Ordinal));
            Assert.Contains(report.Dropped, d => d.Contains("depends on entry", StringComparison.Ordinal));
            Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Id == FfsEvents.RecoveryDropped && e.Message.Contains("lost a data page", StringComparison.Ordinal));

            // Still usable: write, unmount, mount again.
            fs.WriteAllBytes("/after", pad);
            fs.Unmount();
            var again = FlashFileSystem.Mount(dev);
            Assert.Equal(pad, again.ReadAllBytes("/after"));
            Assert.Equal(other, again.ReadAllBytes("/other"));
            again.Unmount();
        }
    }

    [Fact]
    public void A_damaged_commit_page_tag_still_stops_the_replay_there()
    {
        // The ordinals cannot say which transaction a lost commit page ended (it looks uncommitted), nor what its
        // records changed: everything from it on is left out, nothing before it.
        var (image, pad, victim, _) = Write();
        var tags = Tags(image);
        var last = tags.Single(t => t.Kind == 1 && t.Chunk == 2 && image.AsSpan(t.Page * Raw, 2048).SequenceEqual(victim.AsSpan(4096, 2048)));
        var commit = tags.Where(t => t.Kind == 2 && t.Commit && t.Seq > last.Seq).MinBy(t => t.Seq);
        image[(commit.Page * Raw) + TagOffset + 29] ^= 0x04;

        var (dev, fs, _) = Mount(image);
        using (dev)
        {
            Assert.Equal(pad, fs.ReadAllBytes("/pad"));
            Assert.Equal(commit.Seq, fs.MountReport.ReplayStoppedAt);
            Assert.False(fs.Exists("/victim"));
            Assert.False(fs.Exists("/other"));
            Assert.False(fs.Exists("/renamed"));
        }
    }
}
