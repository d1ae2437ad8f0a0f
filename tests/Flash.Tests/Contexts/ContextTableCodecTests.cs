using Flash.Ffs.Contexts;
using Flash.Ffs.Format;

namespace Flash.Tests.Contexts;

/// <summary>
/// The context table's bytes are part of the on-flash format: these encodings were recorded from the code before the
/// codec moved onto the shared little-endian writer (issue 18) and must never change.
/// </summary>
public sealed class ContextTableCodecTests
{
    private const string InitialHex = "4354585401000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001EC80398";
    private const string FullHex = "435458540100010108070605040302018090A0B0C0D0E0F0030134120000000052312E302DC3A90000000000000000000000000000000000000000000000000078787878787878787878787878787878787878787878787878787878787878788C12DAEE";

    private static ContextTable Full => ContextTable.Initial.WithState(ContextArea.Area0, ContextState.Trial).WithState(ContextArea.Area1, ContextState.Valid)
        .WithLabel(ContextArea.Area0, "R1.0-é").WithLabel(ContextArea.Area1, new string('x', ContextTable.MaxLabelBytes))
        with { Current = ContextArea.Area1, Generation = 0x0102030405060708, Sequence = 0xF0E0D0C0B0A09080, AlternateBoot = true, BootRetries = 0x1234 };

    [Fact]
    public void Initial_table_bytes_are_the_recorded_ones()
    {
        Assert.Equal(InitialHex, Convert.ToHexString(ContextTable.Initial.Encode()));
        Assert.Equal(ContextTable.Initial, ContextTable.Decode(Convert.FromHexString(InitialHex)));
    }

    [Fact]
    public void Every_field_lands_on_the_recorded_bytes()
    {
        Assert.Equal(FullHex, Convert.ToHexString(Full.Encode()));
        Assert.Equal(Full, ContextTable.Decode(Convert.FromHexString(FullHex)));
    }

    [Fact]
    public void Every_truncation_and_every_flipped_bit_is_rejected()
    {
        var good = Full.Encode();
        for (int n = 0; n < good.Length; n++)
        {
            Assert.False(ContextTable.TryDecode(good.AsSpan(0, n), out _, out _));
            Assert.Throws<ContextTableCorruptException>(() => ContextTable.Decode(good.AsSpan(0, n)));
        }

        Assert.Throws<ContextTableCorruptException>(() => ContextTable.Decode([.. good, 0]));
        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ContextTable.TryDecode(bad, out _, out string? error));
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void Errors_name_the_first_fault_found()
    {
        var b = Full.Encode();
        b[96] ^= 1;
        Assert.Contains("CRC", Error(b), StringComparison.Ordinal);
        b = Full.Encode();
        b[0] ^= 1;
        Assert.Contains("magic", Error(b), StringComparison.Ordinal);
        b = Full.Encode();
        b[4] = 2;
        Assert.Contains("version 2", Error(Recrc(b)), StringComparison.Ordinal);
        foreach (int at in (int[])[6, 7, 24, 25])
        {
            b = Full.Encode();
            b[at] = 9;
            Assert.Contains("out-of-range", Error(Recrc(b)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Mutations_with_a_valid_crc_decode_or_fail_only_with_the_codec_error()
    {
        var rng = new Random(18);
        var good = Full.Encode();
        for (int i = 0; i < 3000; i++)
        {
            var b = (byte[])good.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                b[rng.Next(ContextTableCodec.CrcOffset)] = (byte)rng.Next(256);
            }

            Recrc(b);
            if (ContextTable.TryDecode(b, out var t, out _))
            {
                Assert.Equal(t, ContextTable.Decode(t.Encode()));
            }
            else
            {
                Assert.Throws<ContextTableCorruptException>(() => ContextTable.Decode(b));
            }
        }
    }

    [Fact]
    public void A_label_that_is_not_utf8_is_rejected()
    {
        var b = Full.Encode();
        b[32] = 0xFF;
        Assert.Contains("label", Error(Recrc(b)), StringComparison.Ordinal);
    }

    private static string Error(byte[] b)
    {
        Assert.False(ContextTable.TryDecode(b, out _, out string? error));
        return error;
    }

    private static byte[] Recrc(byte[] b)
    {
        BitConverter.TryWriteBytes(b.AsSpan(96), Crc32C.Compute(b.AsSpan(0, 96)));
        return b;
    }
}
