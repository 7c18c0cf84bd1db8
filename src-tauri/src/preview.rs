//! Image previews: an attachment is decoded here, in Rust, into raw pixels, scaled down to fit
//! [`MAX_SIDE`] × [`MAX_SIDE`] and written out again as a fresh PNG, so the webview never decodes
//! a customer's file (it only draws a PNG this code made). Only JPEG, PNG, GIF (its first frame)
//! and WebP are previewed, decided from the bytes (and a name that contradicts them is refused,
//! the core's rule); an image larger than [`MAX_PIXELS`] is refused from its header, before
//! anything is decoded.

use std::io::Cursor;

use base64::Engine;
use outpost_client::attachments::ImagePreview;
use outpost_core::files::{check_upload, FileType, SNIFF_BYTES};

/// The longest side of a preview, in pixels.
pub const MAX_SIDE: u32 = 1600;
/// The largest image previewed, in pixels (about 50 megapixels): larger headers are refused
/// before decoding, so a small file that claims a huge canvas cannot exhaust the memory.
pub const MAX_PIXELS: u64 = 50_000_000;

#[derive(Debug, PartialEq, Eq)]
pub enum PreviewError {
    /// Not an image Outpost previews (or its name contradicts its bytes): the sentence says why.
    NotAnImage(String),
    /// The header announces more than [`MAX_PIXELS`].
    TooLarge { width: u64, height: u64 },
    /// The bytes could not be decoded.
    Damaged(String),
}

impl std::fmt::Display for PreviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PreviewError::NotAnImage(why) => f.write_str(why),
            PreviewError::TooLarge { width, height } => write!(
                f,
                "the image is {width} × {height} pixels; previews stop at {} megapixels. Save \
                 it to open it with another program.",
                MAX_PIXELS / 1_000_000
            ),
            PreviewError::Damaged(why) => write!(
                f,
                "the image cannot be decoded ({why}); it may be damaged. Save it to open it \
                 with another program."
            ),
        }
    }
}

impl PreviewError {
    /// How the refusal crosses into the UI.
    pub fn dto(&self) -> outpost_client::desk::ErrorDto {
        use outpost_core::error::ErrorCode;
        outpost_client::desk::ErrorDto {
            code: match self {
                PreviewError::TooLarge { .. } => ErrorCode::TooLarge,
                PreviewError::NotAnImage(_) | PreviewError::Damaged(_) => ErrorCode::FileRefused,
            },
            message: self.to_string(),
        }
    }
}

/// A decoded image: RGBA, 8 bits per channel, rows top to bottom.
struct Pixels {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

/// Decodes `data` (an attachment named `filename`), scales it to fit and re-encodes it as PNG.
pub fn preview(filename: &str, data: &[u8]) -> Result<ImagePreview, PreviewError> {
    let head = &data[..data.len().min(SNIFF_BYTES)];
    let kind = check_upload(None, filename, head, data.len() as u64)
        .map_err(|refusal| PreviewError::NotAnImage(refusal.to_string()))?;
    let pixels = match kind {
        FileType::Png => decode_png(data)?,
        FileType::Jpeg => decode_jpeg(data)?,
        FileType::Gif => decode_gif(data)?,
        FileType::Webp => decode_webp(data)?,
        other => {
            return Err(PreviewError::NotAnImage(format!(
                "{filename} is {}; only JPEG, PNG, GIF and WebP images are previewed. Save it \
                 to open it with another program.",
                other.label()
            )))
        }
    };
    let scaled = fit(&pixels, MAX_SIDE);
    let png = encode_png(&scaled)?;
    Ok(ImagePreview {
        width: scaled.width,
        height: scaled.height,
        png_base64: base64::engine::general_purpose::STANDARD.encode(png),
    })
}

fn check_size(width: u64, height: u64) -> Result<(), PreviewError> {
    if width == 0 || height == 0 {
        return Err(PreviewError::Damaged("the image has no pixels".into()));
    }
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(PreviewError::TooLarge { width, height });
    }
    Ok(())
}

fn damaged(e: impl std::fmt::Display) -> PreviewError {
    PreviewError::Damaged(e.to_string())
}

fn decode_png(data: &[u8]) -> Result<Pixels, PreviewError> {
    let mut decoder = png::Decoder::new(Cursor::new(data));
    let info = decoder.read_header_info().map_err(damaged)?;
    check_size(u64::from(info.width), u64::from(info.height))?;
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(damaged)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| damaged("the image is too large"))?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(damaged)?;
    let (width, height) = (frame.width, frame.height);
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(damaged("a palette survived expansion")),
    };
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    for row in buffer.chunks(frame.line_size).take(height as usize) {
        for px in row[..width as usize * channels].chunks_exact(channels) {
            rgba.extend_from_slice(&match channels {
                1 => [px[0], px[0], px[0], 255],
                2 => [px[0], px[0], px[0], px[1]],
                3 => [px[0], px[1], px[2], 255],
                _ => [px[0], px[1], px[2], px[3]],
            });
        }
    }
    Ok(Pixels {
        width,
        height,
        rgba,
    })
}

fn decode_jpeg(data: &[u8]) -> Result<Pixels, PreviewError> {
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGBA)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(data),
        options,
    );
    decoder.decode_headers().map_err(damaged)?;
    let info = decoder
        .info()
        .ok_or_else(|| damaged("the JPEG has no header"))?;
    check_size(u64::from(info.width), u64::from(info.height))?;
    let rgba = decoder.decode().map_err(damaged)?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if rgba.len() != width as usize * height as usize * 4 {
        return Err(damaged("the JPEG decoded to an unexpected size"));
    }
    Ok(Pixels {
        width,
        height,
        rgba,
    })
}

fn decode_gif(data: &[u8]) -> Result<Pixels, PreviewError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(Cursor::new(data)).map_err(damaged)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    check_size(u64::from(width), u64::from(height))?;
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    // The first frame, drawn where it sits on the logical screen.
    let frame = decoder
        .read_next_frame()
        .map_err(damaged)?
        .ok_or_else(|| damaged("the GIF has no frame"))?;
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    let frame_width = usize::from(frame.width);
    for (y, row) in frame.buffer.chunks_exact(frame_width * 4).enumerate() {
        let y = top + y;
        if y >= height as usize {
            break;
        }
        for (x, px) in row.chunks_exact(4).enumerate() {
            let x = left + x;
            if x >= width as usize {
                break;
            }
            let at = (y * width as usize + x) * 4;
            rgba[at..at + 4].copy_from_slice(px);
        }
    }
    Ok(Pixels {
        width,
        height,
        rgba,
    })
}

fn decode_webp(data: &[u8]) -> Result<Pixels, PreviewError> {
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(data)).map_err(damaged)?;
    let (width, height) = decoder.dimensions();
    check_size(u64::from(width), u64::from(height))?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| damaged("the image is too large"))?;
    let mut buffer = vec![0; size];
    decoder.read_image(&mut buffer).map_err(damaged)?;
    let rgba = if decoder.has_alpha() {
        buffer
    } else {
        buffer
            .chunks_exact(3)
            .flat_map(|px| [px[0], px[1], px[2], 255])
            .collect()
    };
    Ok(Pixels {
        width,
        height,
        rgba,
    })
}

/// Scales down (never up) to fit `side` × `side`, each target pixel the average of the source
/// pixels it covers.
fn fit(pixels: &Pixels, side: u32) -> Pixels {
    let (w, h) = (pixels.width, pixels.height);
    if w <= side && h <= side {
        return Pixels {
            width: w,
            height: h,
            rgba: pixels.rgba.clone(),
        };
    }
    let scale = f64::from(side) / f64::from(w.max(h));
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let mut out = vec![0u8; tw as usize * th as usize * 4];
    for ty in 0..th {
        let y0 = (u64::from(ty) * u64::from(h) / u64::from(th)) as usize;
        let y1 = ((u64::from(ty + 1) * u64::from(h)).div_ceil(u64::from(th)) as usize).max(y0 + 1);
        for tx in 0..tw {
            let x0 = (u64::from(tx) * u64::from(w) / u64::from(tw)) as usize;
            let x1 =
                ((u64::from(tx + 1) * u64::from(w)).div_ceil(u64::from(tw)) as usize).max(x0 + 1);
            let mut sum = [0u64; 4];
            for y in y0..y1.min(h as usize) {
                let row = y * w as usize * 4;
                for x in x0..x1.min(w as usize) {
                    let at = row + x * 4;
                    for (c, total) in sum.iter_mut().enumerate() {
                        *total += u64::from(pixels.rgba[at + c]);
                    }
                }
            }
            let count = ((y1.min(h as usize) - y0) * (x1.min(w as usize) - x0)) as u64;
            let at = (ty as usize * tw as usize + tx as usize) * 4;
            for c in 0..4 {
                out[at + c] = (sum[c] / count.max(1)) as u8;
            }
        }
    }
    Pixels {
        width: tw,
        height: th,
        rgba: out,
    }
}

fn encode_png(pixels: &Pixels) -> Result<Vec<u8>, PreviewError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixels.width, pixels.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(damaged)?;
    writer.write_image_data(&pixels.rgba).map_err(damaged)?;
    writer.finish().map_err(damaged)?;
    Ok(out)
}
