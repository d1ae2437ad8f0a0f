using Flash.Drivers.Ecc;

namespace Flash.Tests.Ecc;

public class HammingEccTests
{
    /// <summary>The Linux software Hamming ECC written straight from its definition (line parities rp0..rp17, column parities cp0..cp5).</summary>
    private static byte[] Reference(ReadOnlySpan<byte> data)
    {
        int addressBits = data.Length == 256 ? 8 : 9;
        var rp = new int[2 * addressBits];
        var cp = new int[6];
        for (int i = 0; i < data.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                int v = (data[i] >> bit) & 1;
                for (int k = 0; k < addressBits; k++)
                {
                    rp[(2 * k) + ((i >> k) & 1)] ^= v;
                }

                cp[0 + ((bit >> 0) & 1)] ^= v;
                cp[2 + ((bit >> 1) & 1)] ^= v;
                cp[4 + ((bit >> 2) & 1)] ^= v;
            }
        }

        int low = 0, high = 0;
        for (int j = 0; j < 8; j++)
        {
            low |= rp[j] << j;
            high |= rp[8 + j] << j;
        }

        int col = (cp[5] << 7) | (cp[4] << 6) | (cp[3] << 5) | (cp[2] << 4) | (cp[1] << 3) | (cp[0] << 2);
        col = addressBits == 9 ? ~(col | (rp[17] << 1) | rp[16]) : ~col | 3;
        return [(byte)~high, (byte)~low, (byte)col];
    }

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void Codes_match_the_Linux_definition_bit_for_bit(int step)
    {
        var code = new HammingEcc(step);
        var rng = new Random(step);
        var data = new byte[step];
        var ecc = new byte[3];
        for (int trial = 0; trial < 200; trial++)
        {
            rng.NextBytes(data);
            if (trial % 3 == 0)
            {
                Array.Clear(data);
                data[rng.Next(step)] = (byte)(1 << rng.Next(8));
            }

            code.Calculate(data, ecc);
            Assert.Equal(Reference(data), ecc);
        }
    }

    [Fact]
    public void Known_vectors_erased_zero_and_one_bit()
    {
        var code = new HammingEcc(256);
        var ecc = new byte[3];
        var data = new byte[256];
        Array.Fill(data, (byte)0xFF);
        code.Calculate(data, ecc);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF }, ecc);

        Array.Clear(data);
        code.Calculate(data, ecc);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF }, ecc);

        data[0] = 0x01;
        code.Calculate(data, ecc);
        Assert.Equal(new byte[] { 0xAA, 0xAA, 0xAB }, ecc);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void Every_single_bit_error_in_data_or_ecc_is_corrected(int step)
    {
        var code = new HammingEcc(step);
        var original = new byte[step];
        new Random(7).NextBytes(original);
        var ecc = new byte[3];
        code.Calculate(original, ecc);
        var data = new byte[step];
        for (int bit = 0; bit < (step + 3) * 8; bit++)
        {
            original.CopyTo(data, 0);
            var stored = (byte[])ecc.Clone();
            if (bit < step * 8)
            {
                data[bit >> 3] ^= (byte)(1 << (bit & 7));
            }
            else
            {
                int e = bit - (step * 8);
                stored[e >> 3] ^= (byte)(1 << (e & 7));
            }

            int r = code.Correct(data, stored);
            Assert.Equal(1, r);
            Assert.Equal(original, data);
        }
    }

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void Two_bit_errors_are_reported_never_silently_wrong(int step)
    {
        var code = new HammingEcc(step);
        var rng = new Random(11);
        var original = new byte[step];
        var data = new byte[step];
        var ecc = new byte[3];
        int totalBits = (step + 3) * 8;
        int reported = 0, trials = 3000;
        for (int trial = 0; trial < trials; trial++)
        {
            rng.NextBytes(original);
            code.Calculate(original, ecc);
            original.CopyTo(data, 0);
            var stored = (byte[])ecc.Clone();
            int a = rng.Next(totalBits), b;
            do
            {
                b = rng.Next(totalBits);
            }
            while (b == a);

            foreach (int bit in new[] { a, b })
            {
                if (bit < step * 8)
                {
                    data[bit >> 3] ^= (byte)(1 << (bit & 7));
                }
                else
                {
                    int e = bit - (step * 8);
                    stored[e >> 3] ^= (byte)(1 << (e & 7));
                }
            }

            int r = code.Correct(data, stored);
            if (r < 0)
            {
                reported++;
            }
            else
            {
                // Only possible when one flip hit an ECC bit that carries no information (the constant bits of byte 2).
                Assert.Equal(original, data);
            }

            if (a < step * 8 && b < step * 8)
            {
                Assert.Equal(-1, r);
            }
        }

        Assert.True(reported > trials * 9 / 10, $"{reported} of {trials} double errors reported");
    }
}
