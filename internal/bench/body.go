package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// bodyWords is the vocabulary of the free text in realisticBody: ordinary
// English and product words, so that the text compresses like the text of
// real payloads, neither like padding nor like noise.
var bodyWords = strings.Fields(`the invoice for your monthly subscription has been paid in full thank you
	for choosing our service plan pro team enterprise starter seats storage bandwidth support priority
	annual renewal discount coupon applied credit balance remaining account customer billing portal
	update payment method card ending receipt available download statement period usage metered api
	requests overage region europe north america shipping address line city postal code country`)

// bodyCities and bodyCountries give the address fields a few real values.
var (
	bodyCities    = []string{"Berlin", "Lyon", "Austin", "Osaka", "Porto", "Leeds", "Denver", "Malmo"}
	bodyCountries = []string{"DE", "FR", "US", "JP", "PT", "GB", "US", "SE"}
	bodyPlans     = []string{"starter", "pro", "team", "enterprise"}
)

// realisticBody is the JSON body of event i, about size bytes (at least
// the fixed fields, about 850 bytes): an invoice.paid notification as
// payment providers send them, with random ids, amounts, emails and
// addresses, line items and free text, naming datasetCustomer(i) so that a
// body search finds one event in datasetCustomers. The same i always gives
// the same body. Unlike datasetBody's padding, it compresses about as well
// as real webhooks do, which is what a store's size per event depends on.
func realisticBody(i, size int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 0x766f6c6c6579))
	// Appends rather than fmt: a 10M-event build makes 10M bodies.
	b := make([]byte, 0, max(size, 900)+16)
	id := func(prefix string, n int) {
		const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		b = append(b, prefix...)
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
	}
	num := func(v int) { b = strconv.AppendInt(b, int64(v), 10) }
	str := func(s string) { b = append(b, s...) }
	city := rng.IntN(len(bodyCities))
	plan := bodyPlans[rng.IntN(len(bodyPlans))]
	amount := 500 + rng.IntN(200000)
	str(`{"id":"`)
	id("evt_", 24)
	str(`","object":"event","api_version":"2024-06-20","created":`)
	num(1700000000 + i)
	str(`,"type":"invoice.paid","livemode":true,"request":{"id":"`)
	id("req_", 14)
	str(`"},"data":{"object":{"id":"`)
	id("in_", 24)
	str(`","object":"invoice","customer":"` + datasetCustomer(i) + `","customer_email":"user`)
	num(rng.IntN(1e6))
	str(`@example`)
	num(rng.IntN(100))
	str(`.com","customer_name":"Customer `)
	num(i)
	str(`","customer_address":{"line1":"`)
	num(1 + rng.IntN(999))
	str(` Market Street","city":"` + bodyCities[city] + `","postal_code":"`)
	b = append(b, fmt.Sprintf("%05d", rng.IntN(1e5))...)
	str(`","country":"` + bodyCountries[city] + `"},"currency":"eur","amount_due":`)
	num(amount)
	str(`,"amount_paid":`)
	num(amount)
	str(`,"amount_remaining":0,"attempt_count":1,"paid":true,"status":"paid","subscription":"`)
	id("sub_", 24)
	str(`","billing_reason":"subscription_cycle","lines":{"object":"list","data":[{"id":"`)
	id("il_", 24)
	str(`","amount":`)
	num(amount)
	str(`,"quantity":`)
	num(1 + rng.IntN(20))
	str(`,"price":{"id":"`)
	id("price_", 24)
	str(`","product":"`)
	id("prod_", 14)
	str(`","nickname":"` + plan + ` monthly"}}]},"description":"`)
	const tail = `"}}}`
	for first := true; len(b)+len(tail) < size; first = false {
		if !first {
			b = append(b, ' ')
		}
		w := bodyWords[rng.IntN(len(bodyWords))]
		b = append(b, w[:min(len(w), max(size-len(tail)-len(b), 1))]...)
	}
	return append(b, tail...)
}
