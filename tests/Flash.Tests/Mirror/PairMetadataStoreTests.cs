using System.Buffers.Binary;
using System.IO.Hashing;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>The pair's metadata in /system: the designation record's codec and its store, the resync mark, the final resync commit.</summary>
public class PairMetadataStoreTests
{
    private static readonly DesignationRecord Sample = new(
        new Guid("11111111-2222-3333-4444-555555555555"), new Guid("66666666-7777-8888-9999-aaaaaaaaaaaa"), new Guid("bbbbbbbb-cccc-dddd-eeee-ffffffffffff"), 0x0102030405060708);

    private static FlashFileSystem NewVolume()
    {
        var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 3 });
        FlashFileSystem.Format(sim);
        var fs = FlashFileSystem.Mount(sim);
        ContextStore.Initialize(fs, ContextTable.Initial);
        return fs;
    }

    [Fact]
    public void Designation_record_has_the_documented_layout()
    {
        byte[] b = Sample.Encode();
        Assert.Equal(DesignationRecord.EncodedLength, b.Length);
        Assert.Equal("PAIR"u8.ToArray(), b[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        Assert.Equal(Sample.PairId, new Guid(b.AsSpan(8, 16)));
        Assert.Equal(Sample.DeviceId, new Guid(b.AsSpan(24, 16)));
        Assert.Equal(Sample.PrimaryId, new Guid(b.AsSpan(40, 16)));
        Assert.Equal(Sample.Generation, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(56)));
        Assert.Equal(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, b.AsSpan(0, 64)), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(64)));
        Assert.Equal(Sample, DesignationRecord.TryDecode(b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(30)]
    [InlineData(60)]
    [InlineData(66)]
    public void A_damaged_designation_record_is_rejected(int offset)
    {
        byte[] b = Sample.Encode();
        b[offset] ^= 0x20;
        Assert.Null(DesignationRecord.TryDecode(b));
    }

    [Fact]
    public void A_record_of_the_wrong_length_or_version_is_rejected_even_with_a_good_crc()
    {
        byte[] b = Sample.Encode();
        Assert.Null(DesignationRecord.TryDecode(b.AsSpan(0, 67)));
        Assert.Null(DesignationRecord.TryDecode([.. b, 0]));
        Assert.Null(DesignationRecord.TryDecode([]));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, b.AsSpan(0, 64)));
        Assert.Null(DesignationRecord.TryDecode(b));
    }

    [Fact]
    public void Designation_round_trips_through_the_store_and_a_damaged_one_reads_as_absent()
    {
        var fs = NewVolume();
        Assert.Null(PairMetadataStore.ReadDesignation(fs));
        PairMetadataStore.WriteDesignation(fs, Sample);
        Assert.Equal(Sample, PairMetadataStore.ReadDesignation(fs));
        Assert.Equal(Sample.Encode(), fs.ReadAllBytes(PairMetadataStore.DesignationPath));

        // Garbage at the path: the device counts as blank (null), and nothing else on the volume is touched.
        var table = ContextStore.ReadTable(fs);
        fs.WriteAllBytes(PairMetadataStore.DesignationPath, new byte[DesignationRecord.EncodedLength]);
        Assert.Null(PairMetadataStore.ReadDesignation(fs));
        Assert.Equal(table, ContextStore.ReadTable(fs));
    }

    [Fact]
    public void Join_sets_the_mark_and_the_record_together_and_finishing_a_resync_removes_the_mark_with_the_tables()
    {
        var fs = NewVolume();
        PairMetadataStore.JoinMarkedForResync(fs, Sample);
        Assert.True(PairMetadataStore.IsMarkedForResync(fs));
        Assert.Equal(Sample, PairMetadataStore.ReadDesignation(fs));

        // The source's newest table goes to its copy; the source had no older copy, so the target's is removed.
        var source = ContextTable.Initial with { Generation = 5, Sequence = 9, Label1 = "v9" };
        fs.WriteAllBytes(ContextLayout.TableCopy0, [1, 2, 3]); // a stale older copy on the target
        PairMetadataStore.FinishResync(fs, source, olderCopy: null);
        Assert.False(PairMetadataStore.IsMarkedForResync(fs));
        Assert.Equal(source, ContextStore.ReadTable(fs));
        Assert.True(fs.Exists(ContextLayout.TableCopy1));
        Assert.False(fs.Exists(ContextLayout.TableCopy0));

        // With an older copy, both copies are the source's bytes.
        PairMetadataStore.MarkForResync(fs);
        byte[] older = (source with { Generation = 6, Sequence = 10 }).Encode();
        var newest = source with { Generation = 7, Sequence = 11 };
        PairMetadataStore.FinishResync(fs, newest, older);
        Assert.Equal(newest, ContextStore.ReadTable(fs));
        Assert.Equal(older, fs.ReadAllBytes(ContextLayout.TableCopy0));
        Assert.False(PairMetadataStore.IsMarkedForResync(fs));
    }
}
