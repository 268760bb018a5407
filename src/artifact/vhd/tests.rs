//! Tests of the disk image builders: geometry, footer, MBR and FAT layout,
//! determinism, and third-party readers (qemu-img, mtools, file).

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

const EXE: &str = "Setup-cp0123456789.exe";

/// Deterministic filler bytes that do not compress to nothing.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sample() -> Vec<(String, Vec<u8>)> {
    vec![
        (EXE.to_string(), noise(300_000, 1)),
        (
            "readme – lisez-moi.txt".to_string(),
            b"benign\r\n".repeat(100),
        ),
        ("empty".to_string(), Vec::new()),
        (
            "a much longer file name, to need several entries.pdf".to_string(),
            noise(5, 2),
        ),
    ]
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[test]
fn geometry_follows_the_spec_on_known_sizes() {
    let cases = [
        (1 << 20, (30, 4, 17)),
        (64 << 20, (963, 8, 17)),
        (1 << 30, (2080, 16, 63)),
        (200 << 30, (65535, 16, 255)),
    ];
    for (size, (c, h, s)) in cases {
        let g = Geometry::for_size(size);
        assert_eq!(
            (g.cylinders, g.heads, g.sectors_per_track),
            (c, h, s),
            "{size}"
        );
        assert!(g.sectors() * SECTOR <= size);
    }
    for sectors in [16_384u64, 65_536, 100_000, 131_072, 262_144, 1_000_000] {
        let exact = exact_geometry_sectors(sectors);
        assert!(
            exact >= sectors && exact - sectors < 4096,
            "{sectors} -> {exact}"
        );
        assert_eq!(Geometry::for_size(exact * SECTOR).sectors(), exact);
    }
}

#[test]
fn footer_has_the_spec_fields_and_checksum() {
    let vhd = fixed_vhd(&[0xA5; 1000]).unwrap();
    assert_eq!(vhd.len(), 1024 + 512);
    assert!(vhd[..1000].iter().all(|b| *b == 0xA5) && vhd[1000..1024].iter().all(|b| *b == 0));
    let f = read_footer(&vhd).unwrap();
    let tail = &vhd[1024..];
    assert_eq!(&tail[..8], b"conectix");
    assert_eq!((f.features, f.format_version), (2, 0x0001_0000));
    assert_eq!(f.data_offset, u64::MAX);
    assert_eq!(f.timestamp, 766_659_600);
    assert_eq!((&f.creator_app, &f.creator_host_os), (b"win ", b"Wi2k"));
    assert_eq!((f.original_size, f.current_size), (1024, 1024));
    assert_eq!((f.disk_type, f.saved_state), (2, 0));
    assert_eq!(f.geometry, Geometry::for_size(1024));
    let sum: u32 = tail
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .map(|(_, b)| u32::from(*b))
        .sum();
    assert_eq!(f.checksum, !sum);
    assert_eq!(f.unique_id[6] >> 4, 8, "uuid version 8");
    assert_eq!(f.unique_id[8] >> 6, 2, "rfc 9562 variant");
    assert_eq!(f.encode(), tail);
    // Deterministic, and the id follows the content.
    assert_eq!(fixed_vhd(&[0xA5; 1000]).unwrap(), vhd);
    let other = read_footer(&fixed_vhd(&[0x5A; 1000]).unwrap()).unwrap();
    assert_ne!(other.unique_id, f.unique_id);

    let mut broken = vhd.clone();
    broken[1024 + 50] ^= 1;
    assert!(
        read_footer(&broken)
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
    broken[1024] = b'C';
    assert!(
        read_footer(&broken)
            .unwrap_err()
            .to_string()
            .contains("cookie")
    );
    assert!(read_footer(&[0; 100]).is_err());
    assert!(matches!(fixed_vhd(&[]), Err(VhdError::Disk { .. })));
}

#[test]
fn mbr_points_at_the_fat16_partition() {
    let part = fat_image("CHAINPROOF", &sample(), 8 << 20).unwrap();
    let disk = mbr_disk(&part);
    assert_eq!(disk.len(), (1 << 20) + (8 << 20));
    assert_eq!(&disk[510..512], &[0x55, 0xAA]);
    assert_eq!(le32(&disk, 440), DISK_SIGNATURE);
    let entry = &disk[446..462];
    assert_eq!(entry[0], 0, "not active");
    assert_eq!(&entry[1..4], &[0x20, 0x21, 0x00], "chs of lba 2048");
    assert_eq!(entry[4], 0x0E, "fat16 lba");
    assert_eq!(le32(entry, 8), 2048);
    assert_eq!(le32(entry, 12), (8 << 20) / 512);
    assert!(disk[462..510].iter().all(|b| *b == 0), "one partition only");
    // The copy differs from the input only in the hidden-sectors field.
    let copy = &disk[1 << 20..];
    assert_eq!(le32(copy, 28), 2048);
    assert_eq!(le32(&part, 28), 0);
    assert_eq!(copy[..28], part[..28]);
    assert_eq!(copy[32..], part[32..]);
    // A partition that is not FAT is copied unchanged, padded.
    let raw = mbr_disk(&[7; 700]);
    assert_eq!(raw.len(), (1 << 20) + 1024);
    assert_eq!(raw[446 + 4], 0x0E);
    assert_eq!(&raw[(1 << 20)..(1 << 20) + 700], &[7; 700]);
}

#[test]
fn fat_image_is_deterministic_with_pinned_ids_and_times() {
    let first = fat_image("CHAINPROOF", &sample(), 8 << 20).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(first == fat_image("CHAINPROOF", &sample(), 8 << 20).unwrap());
    assert_eq!(le32(&first, 39), VOLUME_ID);
    assert_eq!(&first[43..54], b"CHAINPROOF ");
    assert_eq!(&first[54..62], b"FAT16   ");
    let fs = fatfs::FileSystem::new(Cursor::new(first.clone()), fatfs::FsOptions::new()).unwrap();
    let root = fs.root_dir();
    let entries: Vec<_> = root.iter().map(|e| e.unwrap()).collect();
    let names: Vec<String> = entries.iter().map(|e| e.file_name()).collect();
    let expected: Vec<String> = sample().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
    for entry in &entries {
        let m = entry.modified();
        assert_eq!((m.date.year, m.date.month, m.date.day), (2024, 4, 17));
        assert_eq!((m.time.hour, m.time.min, m.time.sec), (9, 0, 0));
        assert_eq!(entry.created(), m);
    }
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut root.open_file(EXE).unwrap(), &mut data).unwrap();
    assert_eq!(data, sample()[0].1);
    assert!(!fs.read_status_flags().unwrap().dirty());
}

#[test]
fn fat_image_rejects_what_the_volume_cannot_hold() {
    let one = |name: &str| vec![(name.to_string(), vec![1u8])];
    for label in ["", "lower", "TWELVE_CHARS", " LEAD", "A:B"] {
        let err = fat_image(label, &[], 8 << 20).map(|_| ()).unwrap_err();
        assert!(matches!(err, VhdError::Label { .. }), "{label:?}: {err}");
    }
    for name in [
        "", "a/b", "a\\b", "a:b", "a*b", "tab\t", "dot.", "space ", "😀",
    ] {
        let err = fat_image("L", &one(name), 8 << 20).map(|_| ()).unwrap_err();
        assert!(matches!(err, VhdError::File { .. }), "{name:?}: {err}");
    }
    let long = "x".repeat(256);
    assert!(matches!(
        fat_image("L", &one(&long), 8 << 20),
        Err(VhdError::File { .. })
    ));
    let twins = vec![
        ("Setup.EXE".to_string(), vec![]),
        ("setup.exe".to_string(), vec![]),
    ];
    assert!(matches!(
        fat_image("L", &twins, 8 << 20),
        Err(VhdError::File { .. })
    ));
    for size in [0, 4 << 20, (8 << 20) + 1, 5 << 30] {
        assert!(
            matches!(fat_image("L", &[], size), Err(VhdError::Size { .. })),
            "{size}"
        );
    }
    let big = vec![("big.bin".to_string(), vec![0u8; 9 << 20])];
    let err = fat_image("L", &big, 8 << 20).map(|_| ()).unwrap_err();
    assert!(matches!(err, VhdError::NoSpace { .. }), "{err}");
    assert!(err.to_string().starts_with("fit "), "{err}");
    let many: Vec<(String, Vec<u8>)> = (0..120)
        .map(|i| {
            (
                format!("{i:03} a name long enough for three entries.txt"),
                vec![],
            )
        })
        .collect();
    let err = fat_image("L", &many, 8 << 20).map(|_| ()).unwrap_err();
    assert!(matches!(err, VhdError::RootDirectoryFull { .. }), "{err}");
}

#[test]
fn vhd_with_files_is_the_three_layers_in_one() {
    let vhd = vhd_with_files("CHAINPROOF", &sample()).unwrap();
    let footer = read_footer(&vhd).unwrap();
    let disk_len = vhd.len() - 512;
    assert_eq!(footer.current_size, disk_len as u64);
    assert_eq!(
        footer.geometry.sectors() * SECTOR,
        disk_len as u64,
        "exact chs"
    );
    let part_len = u64::from(le32(&vhd, 446 + 12)) * SECTOR;
    assert_eq!(part_len, disk_len as u64 - (1 << 20));
    assert!((MIN_FAT_BYTES..MIN_FAT_BYTES + (4 << 20)).contains(&part_len));
    let layered = fat_image("CHAINPROOF", &sample(), part_len)
        .map(|p| mbr_disk(&p))
        .and_then(|d| fixed_vhd(&d))
        .unwrap();
    assert!(layered == vhd, "layers and one-buffer build differ");
    assert!(vhd_with_files("CHAINPROOF", &sample()).unwrap() == vhd);
}

/// Writes `bytes` to `path` leaving all-zero 64 KiB blocks as holes.
fn write_sparse(path: &Path, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::create(path).unwrap();
    file.set_len(bytes.len() as u64).unwrap();
    for (i, block) in bytes.chunks(1 << 16).enumerate() {
        if block.iter().any(|b| *b != 0) {
            file.seek(SeekFrom::Start((i as u64) << 16)).unwrap();
            file.write_all(block).unwrap();
        }
    }
}

/// The last 512 bytes of a (possibly large, sparse) file.
fn tail(path: &Path) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).unwrap();
    file.seek(SeekFrom::End(-512)).unwrap();
    let mut footer = vec![0; 512];
    file.read_exact(&mut footer).unwrap();
    footer
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run_ok(cmd).stdout).unwrap()
}

/// Lists the root of a FAT image with mtools and checks every file's bytes.
fn check_with_mtools(image: &Path, label: &str, files: &[(String, Vec<u8>)]) -> String {
    let listing = stdout(Command::new("mdir").arg("-i").arg(image).arg("::"));
    assert!(
        listing.contains(&format!("Volume in drive : is {label}")),
        "{listing}"
    );
    for (name, data) in files {
        assert!(
            listing.contains(name.as_str()),
            "{name} missing from\n{listing}"
        );
        let out = run_ok(
            Command::new("mcopy")
                .arg("-n")
                .arg("-i")
                .arg(image)
                .arg(format!("::{name}"))
                .arg("-"),
        );
        assert!(out.stdout == *data, "{name}: mcopy gave other bytes");
    }
    listing
}

#[test]
fn third_party_tools_read_the_vhd() {
    let tools = ["qemu-img", "mdir", "mcopy", "file"];
    if !tools.iter().all(|t| require_tool(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The stage program is about 25 MB.
    let mut files = sample();
    files[0].1 = noise(25_000_000, 3);
    let vhd = vhd_with_files("CP01234567", &files).unwrap();
    let disk_len = vhd.len() - 512;
    assert!(disk_len < 28 << 20, "{disk_len} bytes for 25 MB of files");
    let path = dir.path().join("Invoice-cp0123456789.vhd");
    std::fs::write(&path, &vhd).unwrap();

    let info = stdout(
        Command::new("qemu-img")
            .args(["info", "--output=json", "-f", "vpc"])
            .arg(&path),
    );
    eprintln!("qemu-img info: {info}");
    let json: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(json["format"], "vpc");
    assert_eq!(json["virtual-size"], disk_len as u64);
    // qemu reads back the very disk bytes.
    let raw = dir.path().join("disk.raw");
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-f", "vpc", "-O", "raw"])
            .arg(&path)
            .arg(&raw),
    );
    assert!(
        std::fs::read(&raw).unwrap() == vhd[..disk_len],
        "qemu-img convert differs"
    );

    let kind = stdout(Command::new("file").arg("-b").arg(&path));
    eprintln!("file: {kind}");
    assert!(kind.contains("DOS/MBR boot sector"), "{kind}");
    assert!(kind.contains("ID=0xe"), "{kind}");

    let part = dir.path().join("part.img");
    std::fs::write(&part, &vhd[PARTITION_OFFSET..disk_len]).unwrap();
    let kind = stdout(Command::new("file").arg("-b").arg(&part));
    eprintln!("file (partition): {kind}");
    assert!(kind.contains("FAT (16 bit)"), "{kind}");
    let listing = check_with_mtools(&part, "CP01234567", &files);
    eprintln!("mdir: {listing}");
}

#[test]
fn qemu_sizes_an_odd_disk_by_its_footer_unless_told_otherwise() {
    if !require_tool("qemu-img") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.vhd");
    // 64 MiB: the spec's geometry addresses only 130968 of its 131072 sectors.
    let vhd = fixed_vhd(&vec![1u8; 64 << 20]).unwrap();
    std::fs::write(&path, &vhd).unwrap();
    let size = |args: &[&str]| -> u64 {
        let out = stdout(Command::new("qemu-img").args(args));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        json["virtual-size"].as_u64().unwrap()
    };
    let path_s = path.to_string_lossy().into_owned();
    // qemu trusts the footer's size for creators other than "vpc " and "qemu".
    let current = size(&["info", "--output=json", "-f", "vpc", &path_s]);
    assert_eq!(current, 64 << 20);
    let opts = format!("driver=vpc,force_size_calc=chs,file.filename={path_s}");
    let chs = size(&["info", "--output=json", "--image-opts", &opts]);
    assert_eq!(chs, 130_968 * SECTOR);
    assert_eq!(chs, Geometry::for_size(64 << 20).sectors() * SECTOR);
    // qemu's own fixed VHDs: its footer checks out and its geometry is ours.
    let theirs = dir.path().join("qemu.vhd");
    for mib in ["17M", "100M", "700M"] {
        run_ok(
            Command::new("qemu-img")
                .args(["create", "-q", "-f", "vpc", "-o", "subformat=fixed"])
                .arg(&theirs)
                .arg(mib),
        );
        let footer = read_footer(&tail(&theirs)).unwrap();
        assert_eq!(footer.disk_type, 2);
        assert_eq!(
            footer.geometry,
            Geometry::for_size(footer.current_size),
            "{mib}"
        );
        assert_eq!(footer.data_offset, u64::MAX);
    }
}

#[test]
fn mtools_reads_a_fat32_volume() {
    if !require_tool("mdir") || !require_tool("mcopy") {
        return;
    }
    let files = sample();
    let image = fat_image("CP_FAT32", &files, 520 << 20).unwrap();
    assert!(fat::is_fat32(&image));
    assert_eq!(&image[82..90], b"FAT32   ");
    // Partition type 0x0C, hidden sectors set in the boot sector and its
    // backup (sector 6); only the boot sectors matter, so pass the first MiB.
    let disk = mbr_disk(&image[..1 << 20]);
    assert_eq!(disk[446 + 4], 0x0C);
    assert_eq!(le32(&disk, (1 << 20) + 28), 2048);
    assert_eq!(le32(&disk, (1 << 20) + 6 * 512 + 28), 2048);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fat32.img");
    write_sparse(&path, &image);
    let listing = check_with_mtools(&path, "CP_FAT32", &files);
    eprintln!("mdir (fat32): {listing}");
}
