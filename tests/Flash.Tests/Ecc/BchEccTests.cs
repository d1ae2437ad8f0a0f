using Flash.Drivers.Ecc;

namespace Flash.Tests.Ecc;

public class BchEccTests
{
    private static void Flip(byte[] data, byte[] ecc, int bit, int dataBits)
    {
        if (bit < dataBits)
        {
            data[bit >> 3] ^= (byte)(0x80 >> (bit & 7));
        }
        else
        {
            int e = bit - dataBits;
            ecc[e >> 3] ^= (byte)(0x80 >> (e & 7));
        }
    }

    private static int[] DistinctBits(Random rng, int count, int range)
    {
        var set = new HashSet<int>();
        while (set.Count < count)
        {
            set.Add(rng.Next(range));
        }

        return [.. set];
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 7)]
    [InlineData(8, 14)]
    [InlineData(16, 27)]
    public void Ecc_size_is_13_bits_per_corrected_bit_plus_parity(int t, int expectedBytes)
    {
        var code = new BchEcc(t, 512);
        Assert.Equal(13 * t, code.EccBits);
        Assert.Equal(expectedBytes, code.EccBytes);
    }

    [Fact]
    public void Erased_step_has_erased_ecc_and_reads_clean()
    {
        var code = new BchEcc(8);
        var data = new byte[512];
        Array.Fill(data, (byte)0xFF);
        var ecc = new byte[code.EccBytes];
        code.Calculate(data, ecc);
        Assert.All(ecc, b => Assert.Equal(0xFF, b));
        Assert.Equal(0, code.Correct(data, ecc));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(13)]
    public void Every_error_count_up_to_t_is_corrected_anywhere_in_data_and_ecc(int t)
    {
        var code = new BchEcc(t, 512);
        var rng = new Random(100 + t);
        var original = new byte[512];
        var ecc = new byte[code.EccBytes];
        int dataBits = 512 * 8;
        int codeBits = dataBits + code.EccBits + 1; // data, BCH remainder, parity bit
        for (int trial = 0; trial < 120; trial++)
        {
            rng.NextBytes(original);
            code.Calculate(original, ecc);
            int errors = 1 + (trial % t);
            var data = (byte[])original.Clone();
            var stored = (byte[])ecc.Clone();
            foreach (int bit in DistinctBits(rng, errors, codeBits))
            {
                Flip(data, stored, bit, dataBits);
            }

            Assert.Equal(errors, code.Correct(data, stored));
            Assert.Equal(original, data);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void One_error_more_than_t_is_always_reported(int t)
    {
        var code = new BchEcc(t, 512);
        var rng = new Random(200 + t);
        var original = new byte[512];
        var ecc = new byte[code.EccBytes];
        int dataBits = 512 * 8;
        int codeBits = dataBits + code.EccBits + 1;
        for (int trial = 0; trial < 300; trial++)
        {
            rng.NextBytes(original);
            code.Calculate(original, ecc);
            var data = (byte[])original.Clone();
            var stored = (byte[])ecc.Clone();
            foreach (int bit in DistinctBits(rng, t + 1, codeBits))
            {
                Flip(data, stored, bit, dataBits);
            }

            var asRead = (byte[])data.Clone();
            Assert.Equal(-1, code.Correct(data, stored));
            Assert.Equal(asRead, data); // left as read, not "corrected" into something else
        }
    }

    [Fact]
    public void Many_errors_are_never_returned_as_clean()
    {
        var code = new BchEcc(4, 512);
        var rng = new Random(5);
        var original = new byte[512];
        var ecc = new byte[code.EccBytes];
        for (int trial = 0; trial < 200; trial++)
        {
            rng.NextBytes(original);
            code.Calculate(original, ecc);
            var data = (byte[])original.Clone();
            foreach (int bit in DistinctBits(rng, 6 + (trial % 20), 512 * 8))
            {
                data[bit >> 3] ^= (byte)(0x80 >> (bit & 7));
            }

            int r = code.Correct(data, ecc);
            Assert.NotEqual(0, r);
        }
    }

    [Fact]
    public void Erased_step_with_flips_within_t_reads_as_erased()
    {
        var code = new BchEcc(4, 512);
        var data = new byte[512];
        Array.Fill(data, (byte)0xFF);
        var ecc = new byte[code.EccBytes];
        Array.Fill(ecc, (byte)0xFF);
        data[3] = 0xFE;
        data[300] = 0x7F;
        ecc[1] = 0xEF;
        Assert.Equal(3, code.Correct(data, ecc));
        Assert.All(data, b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Works_for_other_step_sizes()
    {
        var code = new BchEcc(6, 1000 - 8);
        var rng = new Random(9);
        var original = new byte[code.StepSize];
        rng.NextBytes(original);
        var ecc = new byte[code.EccBytes];
        code.Calculate(original, ecc);
        var data = (byte[])original.Clone();
        foreach (int bit in DistinctBits(rng, 6, code.StepSize * 8))
        {
            data[bit >> 3] ^= (byte)(0x80 >> (bit & 7));
        }

        Assert.Equal(6, code.Correct(data, ecc));
        Assert.Equal(original, data);
    }

    [Fact]
    public void Encode_and_clean_decode_allocate_nothing()
    {
        var code = new BchEcc(8);
        var data = new byte[512];
        new Random(1).NextBytes(data);
        var ecc = new byte[code.EccBytes];
        code.Calculate(data, ecc);
        data[10] ^= 4;
        _ = code.Correct(data, ecc);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            code.Calculate(data, ecc);
            data[i] ^= 1;
            _ = code.Correct(data, ecc);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
