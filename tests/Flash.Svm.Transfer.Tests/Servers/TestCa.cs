using System.Security.Cryptography.X509Certificates;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl for one test class.</summary>
internal sealed class TestCa
{
    private TestCa(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public string ServerCertificate => Path.Combine(Directory, "server.crt");

    public string ServerKey => Path.Combine(Directory, "server.key");

    public X509Certificate2 Root => X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Directory, "ca.crt"));

    public static TestCa Create(string directory, string name = "ca")
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        void Openssl(string args) => Tool.Run("openssl", args, directory);
        Openssl($"req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=Flash-{name}");
        Openssl("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1");
        Openssl("x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext");
        return new TestCa(directory);
    }
}
