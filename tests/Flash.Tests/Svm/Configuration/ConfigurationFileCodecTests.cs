using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Tests.Svm.Sgc;

namespace Flash.Tests.Svm.Configuration;

/// <summary>The configuration file's bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class ConfigurationFileCodecTests
{
    private const string EmptyHex = "53564D43010004006E6F646500000000000000000000000070F72AAC";
    private const string FullHex = "53564D43010010006D6F64756C652D747261666669632D330807060504030201030000000500656D707479000002006970080031302E302E302E3304006E616D6509004B6E6F74656E2DC39FA101F5D3";

    private static readonly ConfigurationFile Full = new("module-traffic-3", 0x0102030405060708, new Dictionary<string, string>
    {
        ["ip"] = "10.0.0.3",
        ["name"] = "Knoten-ß",
        ["empty"] = "",
    });

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        Assert.Equal(EmptyHex, Convert.ToHexString(new ConfigurationFile(ConfigurationFile.NodeName, 0, new Dictionary<string, string>()).ToBytes()));
        Assert.Equal(FullHex, Convert.ToHexString(Full.ToBytes()));
        var parsed = ConfigurationFile.Parse(Convert.FromHexString(FullHex));
        Assert.Equal(Full.Name, parsed.Name);
        Assert.Equal(Full.Revision, parsed.Revision);
        Assert.Equal(Full.Settings, parsed.Settings);
    }

    [Fact]
    public void Every_truncation_and_flipped_bit_is_rejected()
    {
        var good = Full.ToBytes();
        for (int n = 0; n < good.Length; n++)
        {
            Assert.Throws<SvmFormatException>(() => ConfigurationFile.Parse(good.AsSpan(0, n)));
        }

        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<SvmFormatException>(() => ConfigurationFile.Parse(bad));
        }

        Assert.Throws<SvmFormatException>(() => ConfigurationFile.Parse(SgcFileCodecTests.WithCrc(good[..^8])));
    }

    [Fact]
    public void Mutations_with_a_valid_crc_parse_or_fail_only_with_the_format_error()
    {
        var rng = new Random(18);
        var body = Full.ToBytes()[..^4];
        for (int i = 0; i < 3000; i++)
        {
            var b = (byte[])body.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                b[rng.Next(b.Length)] = (byte)rng.Next(256);
            }

            try
            {
                _ = ConfigurationFile.Parse(SgcFileCodecTests.WithCrc(b));
            }
            catch (SvmFormatException)
            {
            }
        }
    }

    [Fact]
    public void A_stored_name_that_is_not_allowed_is_a_format_error()
    {
        var b = Full.ToBytes()[..^4];
        b[8] = (byte)'/'; // first byte of the name "module-traffic-3"
        Assert.Throws<SvmFormatException>(() => ConfigurationFile.Parse(SgcFileCodecTests.WithCrc(b)));
    }
}
