//! Image previews are decoded in Rust and re-encoded as PNG: a JPEG and a PNG come out as PNGs
//! scaled to fit 1600 × 1600; a file whose name contradicts its bytes, a file that is not an
//! image, and an image whose header claims more than 50 megapixels are refused (the last before
//! anything is decoded).

use base64::Engine;
use outpost_desktop::preview::{preview, PreviewError, MAX_SIDE};

/// A gradient, so scaling has something to average.
fn rgb(width: u32, height: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            data.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
        }
    }
    data
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(
            &rgb(u32::from(width), u32::from(height)),
            width,
            height,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&rgb(width, height)).unwrap();
    writer.finish().unwrap();
    out
}

/// Decodes the preview's PNG: its size and colour type.
fn decode(preview_png: &str) -> (u32, u32, png::ColorType) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(preview_png)
        .unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height, info.color_type)
}

#[test]
fn a_jpeg_comes_out_as_a_png_scaled_to_fit() {
    let out = preview("scan.jpg", &jpeg(2400, 1200)).unwrap();
    assert_eq!((out.width, out.height), (MAX_SIDE, 800));
    assert_eq!(decode(&out.png_base64), (1600, 800, png::ColorType::Rgba));
}

#[test]
fn a_png_comes_out_as_a_new_png_and_small_images_keep_their_size() {
    let out = preview("screenshot.png", &png(1000, 3000)).unwrap();
    assert_eq!((out.width, out.height), (533, MAX_SIDE));
    assert_eq!(decode(&out.png_base64), (533, 1600, png::ColorType::Rgba));
    // Never scaled up; the output is a fresh PNG, not the customer's bytes.
    let small = png(40, 30);
    let out = preview("icon.png", &small).unwrap();
    assert_eq!((out.width, out.height), (40, 30));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&out.png_base64)
        .unwrap();
    assert_ne!(bytes, small);
    assert_eq!(decode(&out.png_base64).2, png::ColorType::Rgba);
}

#[test]
fn a_png_named_like_a_jpeg_and_a_pdf_are_refused() {
    let err = preview("photo.jpg", &png(20, 20)).unwrap_err();
    let PreviewError::NotAnImage(message) = err else {
        panic!("not refused as a mismatch: {err:?}");
    };
    assert!(
        message.contains("JPEG") && message.contains("PNG"),
        "{message}"
    );
    let err = preview("invoice.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n").unwrap_err();
    assert!(matches!(err, PreviewError::NotAnImage(_)), "{err:?}");
    let err = preview("notes.txt", b"just text").unwrap_err();
    assert!(matches!(err, PreviewError::NotAnImage(_)), "{err:?}");
}

/// Replaces the width and height in a PNG's IHDR chunk and fixes its checksum.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8);
    // Signature (8), length (4), "IHDR" (4), then width and height.
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Replaces the height and width in a JPEG's start-of-frame segment.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline start of frame");
    // Marker (2), length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

#[test]
fn an_image_claiming_more_than_50_megapixels_is_refused_before_decoding() {
    let bomb = png_claiming(20_000, 20_000);
    assert!(bomb.len() < 1_000, "a small file");
    assert_eq!(
        preview("bomb.png", &bomb).unwrap_err(),
        PreviewError::TooLarge {
            width: 20_000,
            height: 20_000
        }
    );
    assert_eq!(
        preview("bomb.jpg", &jpeg_claiming(60_000, 60_000)).unwrap_err(),
        PreviewError::TooLarge {
            width: 60_000,
            height: 60_000
        }
    );
    // A GIF whose logical screen is 65 535 × 65 535, with one 1 × 1 frame in it.
    let mut gif = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut gif, u16::MAX, u16::MAX, &[]).unwrap();
        encoder
            .write_frame(&gif::Frame::from_rgb(1, 1, &[0, 0, 0]))
            .unwrap();
    }
    assert!(gif.len() < 1_000, "a small file");
    assert_eq!(
        preview("bomb.gif", &gif).unwrap_err(),
        PreviewError::TooLarge {
            width: 65_535,
            height: 65_535
        }
    );
}
