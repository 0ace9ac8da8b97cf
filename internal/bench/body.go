package bench

import (
	"fmt"
	"math/rand/v2"
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
	id := func(prefix string, n int) string {
		const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		b := make([]byte, n)
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		return prefix + string(b)
	}
	city := rng.IntN(len(bodyCities))
	plan := bodyPlans[rng.IntN(len(bodyPlans))]
	amount := 500 + rng.IntN(200000)
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":"%s","object":"event","api_version":"2024-06-20","created":%d,"type":"invoice.paid",`+
		`"livemode":true,"request":{"id":"%s"},"data":{"object":{`+
		`"id":"%s","object":"invoice","customer":"%s","customer_email":"user%d@example%d.com","customer_name":"Customer %d",`+
		`"customer_address":{"line1":"%d Market Street","city":"%s","postal_code":"%05d","country":"%s"},`+
		`"currency":"eur","amount_due":%d,"amount_paid":%d,"amount_remaining":0,"attempt_count":1,"paid":true,`+
		`"status":"paid","subscription":"%s","billing_reason":"subscription_cycle","lines":{"object":"list","data":[`,
		id("evt_", 24), 1700000000+i, id("req_", 14), id("in_", 24), datasetCustomer(i),
		rng.IntN(1e6), rng.IntN(100), i, 1+rng.IntN(999), bodyCities[city], rng.IntN(1e5), bodyCountries[city],
		amount, amount, id("sub_", 24))
	fmt.Fprintf(&b, `{"id":"%s","amount":%d,"quantity":%d,"price":{"id":"%s","product":"%s","nickname":"%s monthly"}}`,
		id("il_", 24), amount, 1+rng.IntN(20), id("price_", 24), id("prod_", 14), plan)
	b.WriteString(`]},"description":"`)
	const tail = `"}}}`
	for first := true; b.Len()+len(tail) < size; first = false {
		if !first {
			b.WriteByte(' ')
		}
		w := bodyWords[rng.IntN(len(bodyWords))]
		b.WriteString(w[:min(len(w), max(size-len(tail)-b.Len(), 1))])
	}
	b.WriteString(tail)
	return []byte(b.String())
}
