using System.Text;
using Autograd.CharLm;
using Autograd.Nn;
using Autograd.Nn.Serialization;
using Autograd.Onnx;

namespace Autograd.Tests.Serialization;

[TestFixture]
public class AtomicFileTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("autograd-atomic-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string[] Leftovers() => Directory.GetFiles(_dir, "*.tmp");

    [Test]
    public void WritesAndReplaces()
    {
        string path = Path.Combine(_dir, "a.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second, longer");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(Encoding.UTF8.GetBytes("second, longer")), "UTF-8 without a byte-order mark");
        AtomicFile.WriteAllBytes(path, [1, 2]);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(Leftovers(), Is.Empty);
    }

    [Test]
    public void FailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string path = Path.Combine(_dir, "a.bin");
        File.WriteAllText(path, "old");
        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            throw new InvalidOperationException("boom");
        }));
        Assert.That(error!.Message, Is.EqualTo("boom"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        Assert.That(Leftovers(), Is.Empty);
    }

    [Test]
    public void TheTargetIsNeverOpenedWhileWriting()
    {
        string path = Path.Combine(_dir, "a.bin");
        File.WriteAllText(path, "old");
        AtomicFile.Write(path, stream =>
        {
            stream.Write("new"u8);
            stream.Flush();
            // Mid-write the target still holds the old content; the new bytes live in a temporary beside it.
            Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
            Assert.That(Leftovers(), Has.Length.EqualTo(1));
            Assert.That(Path.GetDirectoryName(Leftovers()[0]), Is.EqualTo(_dir));
        });
        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
    }

    [Test]
    public void BadArguments()
    {
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(null!, _ => { }));
        Assert.Throws<ArgumentException>(() => AtomicFile.Write("", _ => { }));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(Path.Combine(_dir, "x"), null!));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.WriteAllText(Path.Combine(_dir, "x"), null!));
        Assert.Throws<ArgumentException>(() => AtomicFile.WriteAllBytes(_dir + Path.DirectorySeparatorChar, []));
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllBytes(Path.Combine(_dir, "missing", "x"), []));
        Assert.That(Directory.GetFiles(_dir, "*", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void OnnxExportReplacesAtomically()
    {
        var model = new RnnModel<float>(new LstmLayer<float>(4, 3));
        model.Build(3);
        string path = Path.Combine(_dir, "m.onnx");
        File.WriteAllText(path, "old");
        // A model the exporter refuses leaves the old file as it was.
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, path, new OnnxExportOptions { Vocabulary = ["a"] }));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        OnnxExporter.Export(model, path);
        using var expected = new MemoryStream();
        OnnxExporter.Export(model, expected);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected.ToArray()));
        Assert.That(Leftovers(), Is.Empty);
    }

    [Test]
    public void LossCurveReplacesAtomically()
    {
        string path = Path.Combine(_dir, "sub", "loss.csv");
        LossCurve.WriteCsv(path, [new LossPoint(1, 0.5, 2.0, null, 0.01)]);
        LossCurve.WriteCsv(path, [new LossPoint(1, 0.5, 2.0, null, 0.01), new LossPoint(2, 1.0, 1.5, 1.25, 0.01)]);
        Assert.That(File.ReadAllLines(path), Is.EqualTo(new[] { LossCurve.Header, "1,0.500,2,,,0.01", "2,1.000,1.5,1.25,1.80337,0.01" }));
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "sub"), "*.tmp"), Is.Empty);
    }
}
