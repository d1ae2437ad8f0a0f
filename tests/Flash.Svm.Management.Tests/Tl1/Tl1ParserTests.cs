using Flash.Svm.Management.Tl1;

namespace Flash.Svm.Management.Tests.Tl1;

public sealed class Tl1ParserTests
{
    [Fact]
    public void ParsesTheGr831Blocks()
    {
        var c = Tl1Parser.Parse("copy-rfile:node-a:sys:c42::TYPE=SWDL,SRC=\"ftp://op:pw@127.0.0.1/r2.pkg\",mode=full");
        Assert.Equal(("COPY", "RFILE", "", "COPY-RFILE"), (c.Verb, c.Modifier1, c.Modifier2, c.Code));
        Assert.Equal(("NODE-A", "SYS", "c42"), (c.Tid, c.Aid, c.Ctag));
        Assert.Equal("ftp://op:pw@127.0.0.1/r2.pkg", c.Get("SRC"));
        Assert.Equal("full", c.Get("MODE"));
        var u = Tl1Parser.Parse("ACT-USER::ADMIN:7::secret");
        Assert.Equal(["secret"], u.Positional);
        var q = Tl1Parser.Parse("ED-CFG:::8::KEY=motd,VALUE=\"a:b,c;d \\\"q\\\"\"");
        Assert.Equal("a:b,c;d \"q\"", q.Get("VALUE"));
        Assert.Equal("RTRV-ALM-ALL", Tl1Parser.Parse("RTRV-ALM-ALL:::9").Code);
    }

    [Theory]
    [InlineData("", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR::", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR:::", Tl1Errors.InvalidCtag)]
    [InlineData("RTRV-HDR:::1234567", Tl1Errors.InvalidCtag)]
    [InlineData("RTRV-HDR:::a b", Tl1Errors.InvalidCtag)]
    [InlineData("RTRV-A-B-C:::1", Tl1Errors.InvalidSyntax)]
    [InlineData("RT$V-HDR:::1", Tl1Errors.InvalidSyntax)]
    [InlineData("-HDR:::1", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR:T!D::1", Tl1Errors.InvalidTid)]
    [InlineData("RTRV-HDR::A:B-1", Tl1Errors.InvalidCtag)]
    [InlineData("RTRV-HDR::A*B:1", Tl1Errors.InvalidAid)]
    [InlineData("COPY-RFILE:::1::SRC=\"open", Tl1Errors.InvalidSyntax)]
    [InlineData("COPY-RFILE:::1::SRC=a,SRC=b", Tl1Errors.InvalidParameter)]
    [InlineData("COPY-RFILE:::1::=b", Tl1Errors.InvalidParameter)]
    [InlineData("COPY-RFILE:::1::A=x\"y", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR:::1\u0001", Tl1Errors.InvalidSyntax)]
    [InlineData("RTRV-HDR:::1\u00e9", Tl1Errors.InvalidSyntax)]
    public void MalformedInputGetsItsErrorCode(string text, string code)
        => Assert.Equal(code, Assert.Throws<Tl1Exception>(() => Tl1Parser.Parse(text)).Code);

    [Fact]
    public void OversizeAndTooManyParametersAreRefused()
    {
        Assert.Equal(Tl1Errors.InvalidSyntax, Assert.Throws<Tl1Exception>(() => Tl1Parser.Parse("RTRV-HDR:::1::" + new string('A', Tl1Parser.MaxMessageLength))).Code);
        var many = string.Join(",", Enumerable.Range(0, Tl1Parser.MaxParameters + 1).Select(i => $"P{i}=1"));
        Assert.Equal(Tl1Errors.InvalidParameter, Assert.Throws<Tl1Exception>(() => Tl1Parser.Parse("ED-CFG:::1::" + many)).Code);
    }

    [Fact]
    public void RandomInputNeverEscapesAsAnotherException()
    {
        var rng = new Random(22);
        const string alphabet = "ABCRTV-:;,=\"\\ 019&@.\t";
        for (int i = 0; i < 20_000; i++)
        {
            var chars = new char[rng.Next(0, 60)];
            for (int k = 0; k < chars.Length; k++)
            {
                chars[k] = rng.Next(20) == 0 ? (char)rng.Next(0, 256) : alphabet[rng.Next(alphabet.Length)];
            }

            try
            {
                Tl1Parser.Parse(new string(chars));
            }
            catch (Tl1Exception)
            {
                // Refused with a code: fine.
            }

            _ = Tl1Parser.TryReadCtag(new string(chars));
        }
    }

    [Theory]
    [InlineData("file:///var/pkg/r2.pkg", "file", "/var/pkg/r2.pkg", null, null)]
    [InlineData("mem:r2.pkg", "mem", "r2.pkg", null, null)]
    [InlineData("dir:releases/r2.pkg", "dir", "releases/r2.pkg", null, null)]
    [InlineData("ftp://op:s%3Acret@10.0.0.1:2121/pkgs/r2.pkg", "ftp", "ftp://10.0.0.1:2121/pkgs/r2.pkg", "op", "s:cret")]
    [InlineData("https://repo.example/r2.pkg", "https", "https://repo.example/r2.pkg", null, null)]
    public void TransferUrisMapOntoSoftwareSources(string src, string kind, string path, string? user, string? password)
    {
        var t = TransferUri.Parse(src);
        Assert.Equal((kind, path, user, password), (t.Source, t.Path, t.User, t.Password));
    }

    [Theory]
    [InlineData("r2.pkg")]
    [InlineData(":x")]
    [InlineData("f$p://x")]
    public void BadTransferUrisAreRefused(string src)
        => Assert.Equal(Tl1Errors.InvalidData, Assert.Throws<Tl1Exception>(() => TransferUri.Parse(src)).Code);
}
