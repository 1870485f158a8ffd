using System.Buffers.Binary;
using System.Text;
using Autograd.Nn.Serialization;

namespace Autograd.Tests.Serialization;

[TestFixture]
public class SafeTensorsTests
{
    /// <summary>A file assembled by hand from a header string and raw data, independent of the writer.</summary>
    private static byte[] Assemble(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    private static byte[] ValidFile()
    {
        var writer = new SafeTensorsWriter()
            .Add("layers.0.W_f", Tensor.FromArray(new float[] { 1, -2, 3.5f, 0.25f, 5, 6 }, 2, 3))
            .Add("b", Tensor.FromArray(new double[] { Math.PI }, 1))
            .SetMetadata("vocab", "ab\n")
            .SetMetadata("step", "7");
        using var ms = new MemoryStream();
        writer.WriteTo(ms);
        return ms.ToArray();
    }

    [Test]
    public void WriterOutputHasTheDocumentedLayout()
    {
        var writer = new SafeTensorsWriter().Add("x", Tensor.FromArray(new float[] { 1f, 2f }, 2));
        using var ms = new MemoryStream();
        writer.WriteTo(ms);
        var bytes = ms.ToArray();

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(n % 8, Is.EqualTo(0UL), "header padded to 8 bytes");
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(header.TrimEnd(' '), Is.EqualTo("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"));
        // IEEE 754 single, little-endian: 1.0 = 0x3F800000, 2.0 = 0x40000000.
        Assert.That(bytes[(8 + (int)n)..], Is.EqualTo(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40 }));
    }

    [Test]
    public void RoundTripKeepsValuesShapesAndMetadata()
    {
        var file = SafeTensorsFile.Parse(ValidFile());
        Assert.That(file.Names, Is.EqualTo(new[] { "layers.0.W_f", "b" }));
        var w = file.GetTensor<float>("layers.0.W_f");
        Assert.That(w.Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(w.ToArray(), Is.EqualTo(new float[] { 1, -2, 3.5f, 0.25f, 5, 6 }));
        Assert.That(file.GetInfo("b").DType, Is.EqualTo(SafeTensorsDType.F64));
        Assert.That(file.GetTensor<double>("b").Item(), Is.EqualTo(Math.PI));
        Assert.That(file.Metadata["vocab"], Is.EqualTo("ab\n"));
        Assert.That(file.Metadata["step"], Is.EqualTo("7"));
    }

    [Test]
    public void ReadsHandWrittenHalfPrecisionAndScalarAndEmptyTensors()
    {
        // F16 1.0 = 0x3C00, -2.0 = 0xC000; BF16 1.0 = 0x3F80, 0.5 = 0x3F00.
        string header = "{\"__metadata__\":{\"k\":\"v\"},\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
            + "\"bf\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
            + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[12,12]}}";
        byte[] data = [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x00, 0x3F, 0x00, 0x00, 0x40, 0x40];
        var file = SafeTensorsFile.Parse(Assemble(header, data));
        Assert.That(file.GetTensor<float>("h").ToArray(), Is.EqualTo(new float[] { 1, -2 }));
        Assert.That(file.GetTensor<double>("bf").ToArray(), Is.EqualTo(new double[] { 1, 0.5 }));
        Assert.That(file.GetTensor<float>("s").Item(), Is.EqualTo(3f));
        Assert.That(file.GetTensor<float>("e").Length, Is.EqualTo(0));
        Assert.That(file.Metadata["k"], Is.EqualTo("v"));
    }

    [Test]
    public void EveryTruncationIsRejected()
    {
        var bytes = ValidFile();
        for (int length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes[..length];
            Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Parse(prefix), $"prefix of {length} bytes");
        }
    }

    [Test]
    public void TrailingBytesAreRejected()
    {
        var bytes = ValidFile().Concat(new byte[] { 1, 2, 3, 4 }).ToArray();
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Parse(bytes));
        Assert.That(e!.Message, Does.Contain("trailing"));
    }

    [Test]
    public void HugeHeaderLengthIsRejectedWithoutAllocating()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Parse(bytes));
        Assert.That(e!.Message, Does.Contain("header length"));
    }

    private static readonly byte[] EightBytes = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40];

    // Each header is paired with 8 data bytes; each row breaks one rule.
    [TestCase("[1,2]", "does not start with '{'")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "not valid JSON")]
    [TestCase("{\"x\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype")]
    [TestCase("{\"x\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape[0]")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "shape[0]")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}", "elements")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "shape is not an array")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", "run past")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "end before")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "data_offsets[0]")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "two integers")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "gap")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "cover 4")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", "duplicate tensor")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", "lacks data_offsets")]
    [TestCase("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"code\":\"rm -rf\"}}", "unknown field")]
    [TestCase("{\"__metadata__\":{\"a\":1},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "not a string")]
    [TestCase("{\"__metadata__\":[],\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "not a JSON object")]
    [TestCase("{\"x\":[0,8]}", "not a JSON object")]
    public void MalformedHeaderIsRejected(string header, string expectedFragment)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Parse(Assemble(header, EightBytes), "f.safetensors"));
        Assert.That(e!.Message, Does.Contain(expectedFragment));
        Assert.That(e.Message, Does.StartWith("f.safetensors: "));
        Assert.That(e.Message, Does.Not.Contain('\n'));
    }

    [Test]
    public void InvalidUtf8InHeaderIsRejected()
    {
        var bytes = Assemble("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", EightBytes);
        bytes[10] = 0xFF; // inside the key "x"
        Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Parse(bytes));
    }

    [Test]
    public void RandomByteMutationsNeverEscapeAsOtherExceptions()
    {
        var original = ValidFile();
        var random = new Random(1234);
        int rejected = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            try
            {
                var file = SafeTensorsFile.Parse(bytes);
                foreach (var name in file.Names) _ = file.GetBytes(name);
            }
            catch (CheckpointFormatException)
            {
                rejected++;
            }
        }
        // Mutations of the data bytes or of metadata characters stay valid; many others must be caught.
        Assert.That(rejected, Is.GreaterThan(100));
    }

    [Test]
    public void NonFloatDtypeCannotBeReadAsFloat()
    {
        var bytes = Assemble("{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", EightBytes);
        var file = SafeTensorsFile.Parse(bytes);
        Assert.That(file.GetInfo("i").DType, Is.EqualTo(SafeTensorsDType.I64));
        Assert.Throws<CheckpointFormatException>(() => file.GetTensor<float>("i"));
        Assert.Throws<CheckpointFormatException>(() => file.GetInfo("missing"));
    }

    [Test]
    public void SaveIsAtomicAndLeavesNoTemporaryFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "autograd-st-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "sub", "model.safetensors");
            new SafeTensorsWriter().Add("a", Tensor.FromArray(new float[] { 1 }, 1)).Save(path);
            new SafeTensorsWriter().Add("a", Tensor.FromArray(new float[] { 2 }, 1)).Save(path);
            Assert.That(SafeTensorsFile.Load(path).GetTensor<float>("a").Item(), Is.EqualTo(2f));
            Assert.That(Directory.GetFiles(Path.Combine(dir, "sub")), Is.EqualTo(new[] { path }));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void WriterRejectsBadNames()
    {
        var w = new SafeTensorsWriter().Add("a", Tensor.FromArray(new float[] { 1 }, 1));
        Assert.Throws<ArgumentException>(() => w.Add("a", Tensor.FromArray(new float[] { 1 }, 1)));
        Assert.Throws<ArgumentException>(() => w.Add("", Tensor.FromArray(new float[] { 1 }, 1)));
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", Tensor.FromArray(new float[] { 1 }, 1)));
    }

    [Test]
    public void LoadOfMissingFileThrowsFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".safetensors")));
}
